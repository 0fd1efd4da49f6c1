// Attaché workbench: the draft assistant, concordance, glossary curation and QA over the
// server's own API. Plain script, no framework, no build step, nothing loaded from elsewhere.
// The Content-Security-Policy allows no inline script or style: every handler is bound here and
// every style lives in app.css (or is set through element.style).
'use strict';

(() => {
  // ------------------------------------------------------------------------------------------
  // Small helpers

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  /** Creates an element: `props` are attributes (plus `class`, `text`, `dataset`, `on…`). */
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name === 'text') node.textContent = value;
      else if (name === 'value') node.value = value;
      else if (name === 'dataset') Object.assign(node.dataset, value);
      else if (name.startsWith('on') && typeof value === 'function') {
        node.addEventListener(name.slice(2), value);
      } else if (value === true) node.setAttribute(name, '');
      else node.setAttribute(name, String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** Code points, not UTF-16 units: the API's offsets count Unicode characters. */
  const codePoints = (text) => Array.from(text || '');

  let uniqueCounter = 0;
  const uniqueId = (prefix) => `${prefix}-${++uniqueCounter}`;

  const otherLang = (lang) => (lang === 'zh' ? 'en' : 'zh');

  const isCjk = (lang) => /^(zh|ja|ko)\b/i.test(lang || '');

  function formatTime(rfc3339) {
    if (!rfc3339) return '';
    // Browsers parse at most millisecond fractions reliably.
    const date = new Date(String(rfc3339).replace(/(\.\d{3})\d+/, '$1'));
    if (Number.isNaN(date.getTime())) return rfc3339;
    return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
  }

  function plural(count, one, many) {
    return `${count} ${count === 1 ? one : many || `${one}s`}`;
  }

  // ------------------------------------------------------------------------------------------
  // State

  const KEY_STORAGE = 'attache.apiKey';
  const ROLES = ['reader', 'translator', 'terminologist', 'admin'];
  const VIEWS = ['draft', 'concordance', 'glossary', 'qa'];
  const VIEW_TITLES = { draft: 'Draft', concordance: 'Concordance', glossary: 'Glossary', qa: 'QA' };

  const state = {
    view: 'draft',
    who: null, // {open, name, role} once known
    whoError: null,
    retries: new Map(), // what to run again once a key is given after a 401, by error region
    draft: { run: 0, sentences: [], selected: -1, analysed: null },
    concordance: { run: 0, done: null },
    glossary: { page: 1, perPage: 20, params: {}, total: 0, entry: null, editing: null, loaded: false },
  };

  // ------------------------------------------------------------------------------------------
  // The API

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  function storedKey() {
    try {
      return sessionStorage.getItem(KEY_STORAGE) || '';
    } catch (_) {
      return '';
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    const key = storedKey();
    if (key) headers.Authorization = `Bearer ${key}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (error) {
      throw new ApiError(0, 'network', `the server could not be reached (${error.message})`);
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      const detail = data && data.error ? data.error : {};
      throw new ApiError(
        response.status,
        detail.code || `http_${response.status}`,
        detail.message || `${response.status} ${response.statusText || 'error'}`,
      );
    }
    return { status: response.status, data };
  }

  /** What to tell the user about a failed call. */
  function describeError(error) {
    if (!(error instanceof ApiError)) return `Something went wrong: ${error.message || error}`;
    switch (error.status) {
      case 401:
        return `${error.message}. Enter an API key under “API key” at the top of the page.`;
      case 403:
        return `Not allowed: ${error.message}.`;
      case 429:
        return `Too many requests: ${error.message}.`;
      case 0:
        return `Offline: ${error.message}.`;
      default:
        return error.message;
    }
  }

  function showError(region, error, retry) {
    const node = typeof region === 'string' ? $(region) : region;
    state.retries.delete(node.id);
    node.textContent = describeError(error);
    node.hidden = false;
    if (error instanceof ApiError && error.status === 401) {
      if (retry) state.retries.set(node.id, retry);
      askForKey();
    }
  }

  function clearError(region) {
    const node = typeof region === 'string' ? $(region) : region;
    node.textContent = '';
    node.hidden = true;
  }

  // ------------------------------------------------------------------------------------------
  // Who is signed in, and what they may do

  const roleRank = (role) => ROLES.indexOf(role);
  const may = (role) => Boolean(state.who) && roleRank(state.who.role) >= roleRank(role);

  function askForKey() {
    const details = $('#key-details');
    details.open = true;
    renderWho();
  }

  async function loadWho() {
    try {
      const { data } = await api('GET', '/api/v1/whoami');
      state.who = data;
      state.whoError = null;
    } catch (error) {
      state.who = null;
      state.whoError = error;
    }
    renderWho();
    applyRoles();
    return state.who;
  }

  function renderWho() {
    const who = $('#who');
    who.classList.remove('who-warning');
    if (state.who && state.who.open) {
      who.textContent = 'Open server: no key needed, every action allowed.';
    } else if (state.who) {
      who.replaceChildren(
        'Signed in as ',
        h('strong', { class: 'who-name' }, state.who.name || 'unknown'),
        ' · role: ',
        h('strong', { class: 'who-role' }, state.who.role),
      );
    } else if (state.whoError && state.whoError.status === 401) {
      who.classList.add('who-warning');
      who.textContent = storedKey()
        ? `Key not accepted: ${state.whoError.message}.`
        : 'Not signed in: this server needs an API key.';
      $('#key-details').open = true;
    } else if (state.whoError) {
      who.classList.add('who-warning');
      who.textContent = describeError(state.whoError);
    } else {
      who.textContent = 'Checking who you are…';
    }
  }

  function roleNote(labels, needed) {
    const list =
      labels.length <= 1 ? labels.join('') : `${labels.slice(0, -1).join(', ')} and ${labels[labels.length - 1]}`;
    const verb = labels.length <= 1 ? 'needs' : 'need';
    if (!state.who) return `${list} ${verb} the ${needed} role: enter an API key.`;
    return `${list} ${verb} the ${needed} role; your key “${state.who.name}” has the role ${state.who.role}.`;
  }

  /** Enables or disables every control that needs a role, and says which role is missing. */
  function applyRoles(root = document) {
    for (const button of $$('[data-needs]', root)) {
      const allowed = may(button.dataset.needs);
      button.disabled = !allowed || button.dataset.blocked === 'true';
      button.classList.toggle('needs-role', !allowed);
    }
    for (const note of $$('.role-note', root)) {
      const controls = note.parentElement;
      const missing = new Map();
      for (const button of $$('[data-needs]', controls)) {
        if (may(button.dataset.needs)) {
          button.removeAttribute('aria-describedby');
          continue;
        }
        const needed = button.dataset.needs;
        if (!missing.has(needed)) missing.set(needed, []);
        missing.get(needed).push(button.textContent.trim());
        if (!note.id) note.id = uniqueId('role-note');
        button.setAttribute('aria-describedby', note.id);
      }
      if (missing.size === 0) {
        note.hidden = true;
        note.textContent = '';
      } else {
        note.hidden = false;
        note.textContent = Array.from(missing, ([needed, labels]) => roleNote(labels, needed)).join(' ');
      }
    }
    const workflowField = $('#ed-workflow-field');
    if (workflowField) workflowField.hidden = !may('terminologist');
  }

  function bindKeyForm() {
    $('#key-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      const input = $('#key-input');
      const key = input.value.trim();
      if (!key) {
        input.focus();
        return;
      }
      try {
        sessionStorage.setItem(KEY_STORAGE, key);
      } catch (_) {
        toast('This browser refused to keep the key (session storage is off).');
      }
      input.value = '';
      const who = await loadWho();
      if (who) {
        $('#key-details').open = false;
        toast(who.open ? 'Open server: no key needed.' : `Signed in as ${who.name} (${who.role}).`);
        const retries = Array.from(state.retries.values());
        state.retries.clear();
        for (const retry of retries) retry();
      } else {
        input.focus();
      }
    });
    $('#key-forget').addEventListener('click', async () => {
      try {
        sessionStorage.removeItem(KEY_STORAGE);
      } catch (_) {
        /* nothing kept */
      }
      await loadWho();
      toast('The key is forgotten.');
    });
  }


  // ------------------------------------------------------------------------------------------
  // Copying and the toast

  let toastTimer = 0;
  function toast(message) {
    const node = $('#toast');
    node.textContent = message;
    node.classList.add('show');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => node.classList.remove('show'), 5000);
  }

  function legacyCopy(text) {
    const active = document.activeElement;
    const buffer = h('textarea', { class: 'copy-buffer', readonly: true, 'aria-hidden': 'true', tabindex: '-1' });
    buffer.value = text;
    document.body.append(buffer);
    buffer.select();
    let copied = false;
    try {
      copied = document.execCommand('copy');
    } catch (_) {
      copied = false;
    }
    buffer.remove();
    if (active && typeof active.focus === 'function') active.focus({ preventScroll: true });
    return copied;
  }

  async function copyText(text, what) {
    let copied = false;
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await Promise.race([
          navigator.clipboard.writeText(text),
          new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1500)),
        ]);
        copied = true;
      } catch (_) {
        copied = false;
      }
    }
    if (!copied) copied = legacyCopy(text);
    document.body.dataset.lastCopied = text;
    toast(copied ? `Copied ${what}: “${text}”` : `Could not copy ${what}; select it and press Ctrl+C: “${text}”`);
  }

  // ------------------------------------------------------------------------------------------
  // Views and the URL

  function viewUrl(view) {
    const params = new URLSearchParams();
    // What was analysed, or what a shared link asked for and has not been analysed yet.
    const draft = state.draft.analysed || state.draft.pending;
    if (view === 'draft' && draft) {
      params.set('text', draft.text);
      params.set('source_lang', draft.source);
      params.set('target_lang', draft.target);
    }
    const search = state.concordance.done || state.concordance.pending;
    if (view === 'concordance' && search) {
      params.set('concordance', search.q);
      params.set('lang', search.lang);
    }
    const query = params.toString();
    return `${location.pathname}${query ? `?${query}` : ''}#${view}`;
  }

  function syncUrl() {
    const url = viewUrl(state.view);
    if (url !== `${location.pathname}${location.search}${location.hash}`) {
      history.replaceState(null, '', url);
    }
  }

  function showView(view, { focusTab = false } = {}) {
    if (!VIEWS.includes(view)) view = 'draft';
    state.view = view;
    for (const tab of $$('[role="tab"]')) {
      const selected = tab.dataset.view === view;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      $(`#${tab.getAttribute('aria-controls')}`).hidden = !selected;
      if (selected && focusTab) tab.focus();
    }
    document.title = `${VIEW_TITLES[view]} · Attaché workbench`;
    syncUrl();
    if (view === 'glossary' && !state.glossary.loaded) {
      state.glossary.loaded = true;
      searchGlossary(1);
      loadRecent();
      loadSubjects();
    }
  }

  function bindTabs() {
    const tabs = $$('[role="tab"]');
    for (const tab of tabs) {
      tab.addEventListener('click', () => showView(tab.dataset.view));
    }
    $('[role="tablist"]').addEventListener('keydown', (event) => {
      const index = tabs.indexOf(document.activeElement);
      if (index < 0) return;
      let next = null;
      if (event.key === 'ArrowRight') next = (index + 1) % tabs.length;
      else if (event.key === 'ArrowLeft') next = (index - 1 + tabs.length) % tabs.length;
      else if (event.key === 'Home') next = 0;
      else if (event.key === 'End') next = tabs.length - 1;
      if (next === null) return;
      event.preventDefault();
      showView(tabs[next].dataset.view, { focusTab: true });
    });
    window.addEventListener('hashchange', () => {
      const view = location.hash.slice(1);
      if (VIEWS.includes(view) && view !== state.view) showView(view);
    });
  }

  /** Keeps a text field's `lang` in step with its language select. */
  function linkLang(select, ...fields) {
    const update = () => {
      for (const field of fields) field.lang = select.value;
    };
    select.addEventListener('change', update);
    update();
  }

  /** Two selects that must differ: choosing one language sets the other. */
  function pairSelects(source, target) {
    source.addEventListener('change', () => {
      if (target.value === source.value) {
        target.value = otherLang(source.value);
        target.dispatchEvent(new Event('change'));
      }
    });
    target.addEventListener('change', () => {
      if (target.value === source.value) {
        source.value = otherLang(target.value);
        source.dispatchEvent(new Event('change'));
      }
    });
  }

  // ------------------------------------------------------------------------------------------
  // Draft assistant

  const BANDS = [
    { min: 100, cls: 'band-100', label: 'exact' },
    { min: 95, cls: 'band-95', label: 'near exact' },
    { min: 85, cls: 'band-85', label: 'high fuzzy' },
    { min: 75, cls: 'band-75', label: 'fuzzy' },
    { min: 50, cls: 'band-50', label: 'low fuzzy' },
  ];

  function bandOf(score) {
    return BANDS.find((band) => score >= band.min) || { min: 0, cls: 'band-none', label: 'below 50' };
  }

  /** The rendering a translator should use: the first preferred, else admitted, target term. */
  function renderingOf(hit) {
    const targets = hit.targets || [];
    const pick =
      targets.find((target) => target.status === 'preferred') ||
      targets.find((target) => target.status === 'admitted');
    return pick ? pick.text : null;
  }

  /** The sentence with its glossary terms underlined (offsets are in code points). */
  function markTerms(text, terms, termIds) {
    const chars = codePoints(text);
    const nodes = [];
    let position = 0;
    terms.forEach((hit, index) => {
      const start = Math.max(hit.start, position);
      const end = Math.min(hit.end, chars.length);
      if (end <= start) return;
      if (start > position) nodes.push(chars.slice(position, start).join(''));
      const rendering = renderingOf(hit);
      const tip = rendering ? `Glossary: ${rendering}` : 'Glossary: no approved rendering';
      nodes.push(
        h(
          'span',
          {
            class: `term term-${hit.term_status}`,
            role: 'term',
            tabindex: '0',
            title: tip,
            'data-rendering': rendering || 'no approved rendering',
            'aria-describedby': termIds[index],
          },
          chars.slice(start, end).join(''),
        ),
      );
      position = end;
    });
    if (position < chars.length) nodes.push(chars.slice(position).join(''));
    return nodes;
  }

  function diffNodes(match) {
    if (!match.diff) return [match.source];
    return match.diff.map((piece) => {
      if (piece.op === 'delete') return h('del', { title: 'only in the stored sentence' }, piece.text);
      if (piece.op === 'insert') return h('ins', { title: 'only in your sentence' }, piece.text);
      return piece.text;
    });
  }

  function scoreBadge(score) {
    const band = bandOf(score);
    return h(
      'span',
      { class: `score ${band.cls}` },
      h('span', { class: 'score-value' }, `${score}%`),
      ' ',
      h('span', { class: 'band-label' }, band.label),
    );
  }

  function matchItem(match, sentenceNumber, index) {
    const band = bandOf(match.score);
    const meta = [`#${match.id}`, match.collection];
    if (match.author) meta.push(match.author);
    if (match.updated_at) meta.push(formatTime(match.updated_at));
    return h(
      'li',
      { class: `match ${band.cls}`, 'data-score': match.score, 'data-segment-id': match.id },
      h('div', { class: 'match-head' }, scoreBadge(match.score), h('span', { class: 'match-meta' }, meta.join(' · '))),
      h('p', { class: 'match-source diff', lang: match.source_lang }, diffNodes(match)),
      h('p', { class: 'match-target', lang: match.target_lang }, match.target),
      h(
        'div',
        { class: 'controls' },
        h(
          'button',
          {
            type: 'button',
            class: 'small copy-target',
            'aria-label': `Copy the translation of match ${index + 1} of sentence ${sentenceNumber}`,
            onclick: () => copyText(match.target, `the translation of match ${index + 1}`),
          },
          'Copy translation',
        ),
      ),
    );
  }

  /** A form that adds one pair to the TM (used under every sentence and on its own). */
  function pairForm({ source, target, sourceLang, targetLang }) {
    const sourceId = uniqueId('tm-source');
    const targetId = uniqueId('tm-target');
    const result = h('p', { class: 'form-result', role: 'status', 'aria-live': 'polite' });
    const sourceField = h('textarea', { id: sourceId, rows: '2', lang: sourceLang, value: source });
    const targetField = h('textarea', { id: targetId, rows: '2', lang: targetLang, value: target });
    const form = h(
      'form',
      { class: 'tm-form' },
      h('label', { for: sourceId }, `Source (${sourceLang})`),
      sourceField,
      h('label', { for: targetId }, `Translation (${targetLang})`),
      targetField,
      h(
        'div',
        { class: 'controls' },
        h('button', { type: 'submit', class: 'primary', 'data-needs': 'translator' }, 'Add to TM'),
        h('span', { class: 'role-note', hidden: true }),
      ),
      result,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      submitPair({ form, sourceField, targetField, sourceLang, targetLang, result });
    });
    return form;
  }

  async function submitPair({ sourceField, targetField, sourceLang, targetLang, result }) {
    const source = sourceField.value.trim();
    const target = targetField.value.trim();
    result.classList.remove('error-text');
    delete result.dataset.segmentId;
    if (!source || !target) {
      result.classList.add('error-text');
      result.textContent = 'Both the source and the translation are needed.';
      (source ? targetField : sourceField).focus();
      return;
    }
    result.textContent = 'Adding…';
    try {
      const { status, data } = await api('POST', '/api/v1/segments', {
        source_lang: sourceLang,
        target_lang: targetLang,
        source,
        target,
      });
      result.dataset.segmentId = data.id;
      result.textContent =
        status === 201 && data.created
          ? `Added to the translation memory as segment #${data.id}.`
          : `Already in the translation memory as segment #${data.id}.`;
    } catch (error) {
      result.classList.add('error-text');
      result.textContent = describeError(error);
      if (error.status === 401) askForKey();
    }
  }

  function sentenceItem(sentence, index, langs) {
    const number = index + 1;
    const labelId = `sentence-${number}-label`;
    const result = sentence.result;
    const terms = (result && result.terms) || [];
    const matches = (result && result.matches) || [];
    const termIds = terms.map((_, termIndex) => `sentence-${number}-term-${termIndex + 1}`);

    let badge;
    if (sentence.error) badge = h('span', { class: 'score band-error' }, 'Lookup failed');
    else if (!result) badge = h('span', { class: 'score pending' }, 'Looking up…');
    else if (matches.length) badge = scoreBadge(matches[0].score);
    else badge = h('span', { class: 'score band-none' }, 'No match');

    const item = h(
      'li',
      {
        class: 'sentence',
        id: `sentence-${number}`,
        tabindex: '-1',
        'data-index': index,
        'aria-labelledby': labelId,
      },
      h('div', { class: 'sentence-head' }, h('h3', { class: 'sentence-label', id: labelId }, `Sentence ${number}`), badge),
      h('p', { class: 'source', lang: langs.source }, markTerms(sentence.text, terms, termIds)),
    );

    if (terms.length) {
      item.append(
        h(
          'ul',
          { class: 'term-list', 'aria-label': `Glossary terms in sentence ${number}` },
          terms.map((hit, termIndex) => {
            const rendering = renderingOf(hit);
            return h(
              'li',
              { class: 'term-item' },
              h('span', { class: 'term-source', lang: langs.source }, hit.text),
              h('span', { class: 'arrow', 'aria-hidden': 'true' }, ' → '),
              h('span', { class: 'visually-hidden' }, ' approved rendering: '),
              h(
                'span',
                { class: 'term-rendering', id: termIds[termIndex], lang: langs.target },
                rendering || 'no approved rendering',
              ),
              hit.term_status !== 'preferred' ? h('span', { class: `chip status-${hit.term_status}` }, hit.term_status) : null,
              rendering
                ? h(
                    'button',
                    {
                      type: 'button',
                      class: 'small copy-term',
                      'aria-label': `Copy the rendering of ${hit.text}`,
                      onclick: () => copyText(rendering, `the rendering of ${hit.text}`),
                    },
                    'Copy',
                  )
                : null,
            );
          }),
        ),
      );
    }

    if (sentence.error) {
      item.append(h('p', { class: 'error-text' }, describeError(sentence.error)));
    } else if (result && matches.length) {
      item.append(
        h(
          'ol',
          { class: 'matches', 'aria-label': `Translation memory matches for sentence ${number}` },
          matches.map((match, matchIndex) => matchItem(match, number, matchIndex)),
        ),
      );
    } else if (result) {
      item.append(h('p', { class: 'no-match' }, 'No stored translation scores 50% or more.'));
    }

    if (result) {
      const details = h(
        'details',
        { class: 'add-tm' },
        h('summary', {}, 'Add this sentence to the TM'),
        pairForm({
          source: sentence.text,
          target: matches.length ? matches[0].target : '',
          sourceLang: langs.source,
          targetLang: langs.target,
        }),
      );
      item.append(details);
      applyRoles(details);
    }

    item.addEventListener('click', (event) => {
      const interactive = event.target.closest('button, a, input, textarea, select, summary, .term');
      selectSentence(index, { focus: !interactive });
    });
    return item;
  }

  function renderSentence(index) {
    const list = $('#draft-results');
    const old = list.children[index];
    const fresh = sentenceItem(state.draft.sentences[index], index, state.draft.langs);
    const wasSelected = index === state.draft.selected;
    const hadFocus = old && old.contains(document.activeElement);
    if (old) old.replaceWith(fresh);
    else list.append(fresh);
    if (wasSelected) {
      fresh.classList.add('selected');
      fresh.setAttribute('aria-current', 'true');
      if (hadFocus) fresh.focus({ preventScroll: true });
    }
  }

  function selectSentence(index, { focus = true } = {}) {
    const items = $$('#draft-results > li.sentence');
    if (!items.length) return;
    const selected = Math.max(0, Math.min(items.length - 1, index));
    state.draft.selected = selected;
    items.forEach((item, itemIndex) => {
      const isSelected = itemIndex === selected;
      item.classList.toggle('selected', isSelected);
      if (isSelected) item.setAttribute('aria-current', 'true');
      else item.removeAttribute('aria-current');
    });
    if (focus) {
      items[selected].focus({ preventScroll: true });
      items[selected].scrollIntoView({ block: 'nearest' });
    }
  }

  /** Runs `work` over `items` with at most `limit` at a time. */
  async function eachLimited(items, limit, work) {
    let next = 0;
    const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index], index);
      }
    });
    await Promise.all(runners);
  }

  async function analyse() {
    const text = $('#draft-text').value;
    const source = $('#draft-source').value;
    const target = $('#draft-target').value;
    const status = $('#draft-status');
    const list = $('#draft-results');
    clearError('#draft-error');
    if (!text.trim()) {
      status.textContent = 'Paste a paragraph first.';
      $('#draft-text').focus();
      return;
    }
    const run = ++state.draft.run;
    status.textContent = 'Analysing…';
    list.setAttribute('aria-busy', 'true');
    let sentences;
    try {
      const { data } = await api('POST', '/api/v1/split', { text });
      sentences = data.sentences;
    } catch (error) {
      if (run !== state.draft.run) return;
      list.removeAttribute('aria-busy');
      status.textContent = '';
      showError('#draft-error', error, analyse);
      return;
    }
    if (run !== state.draft.run) return;
    state.draft.sentences = sentences.map((sentence) => ({ text: sentence.text }));
    state.draft.langs = { source, target };
    state.draft.selected = -1;
    list.replaceChildren();
    state.draft.sentences.forEach((_, index) => renderSentence(index));
    if (!sentences.length) {
      list.removeAttribute('aria-busy');
      status.textContent = 'No sentence found in the paragraph.';
      return;
    }
    selectSentence(0, { focus: false });
    let firstError = null;
    await eachLimited(state.draft.sentences, 4, async (sentence, index) => {
      try {
        const { data } = await api('POST', '/api/v1/lookup', {
          text: sentence.text,
          source_lang: source,
          target_lang: target,
          limit: 3,
          min_score: 50,
          terms: true,
          diff: true,
        });
        sentence.result = data;
      } catch (error) {
        sentence.error = error;
        firstError = firstError || error;
      }
      if (run === state.draft.run) renderSentence(index);
    });
    if (run !== state.draft.run) return;
    list.removeAttribute('aria-busy');
    if (firstError) showError('#draft-error', firstError, analyse);
    state.draft.analysed = { text, source, target };
    $('#draft-link').disabled = false;
    syncUrl();
    const all = state.draft.sentences;
    const matched = all.filter((sentence) => sentence.result && sentence.result.matches.length).length;
    const exact = all.filter(
      (sentence) => sentence.result && sentence.result.matches.length && sentence.result.matches[0].score === 100,
    ).length;
    const termCount = all.reduce((sum, sentence) => sum + ((sentence.result && sentence.result.terms.length) || 0), 0);
    status.textContent =
      `${plural(all.length, 'sentence')}: ${matched} with a match (${exact} exact), ` +
      `${plural(termCount, 'glossary term')}. Press j or k to move between sentences.`;
  }

  function copySelectedBest() {
    const index = state.draft.selected;
    const sentence = state.draft.sentences[index];
    if (!sentence) return;
    const best = sentence.result && sentence.result.matches[0];
    if (!best) {
      toast(`Sentence ${index + 1} has no match to copy.`);
      return;
    }
    copyText(best.target, `the best match of sentence ${index + 1}`);
  }

  function copySelectedTerm() {
    const index = state.draft.selected;
    const sentence = state.draft.sentences[index];
    if (!sentence) return;
    const hit = ((sentence.result && sentence.result.terms) || []).find((term) => renderingOf(term));
    if (!hit) {
      toast(`Sentence ${index + 1} has no glossary term with an approved rendering.`);
      return;
    }
    copyText(renderingOf(hit), `the rendering of ${hit.text}`);
  }

  function isTyping(target) {
    return Boolean(
      target &&
        target.closest &&
        target.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]'),
    );
  }

  function bindShortcuts() {
    document.addEventListener('keydown', (event) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.isComposing) return;
      if (state.view !== 'draft' || isTyping(event.target)) return;
      if (!state.draft.sentences.length) return;
      const plain = !event.altKey && !event.shiftKey;
      let handled = true;
      if ((plain && event.key === 'j') || (event.altKey && event.key === 'ArrowDown')) {
        selectSentence(state.draft.selected + 1);
      } else if ((plain && event.key === 'k') || (event.altKey && event.key === 'ArrowUp')) {
        selectSentence(state.draft.selected - 1);
      } else if (plain && event.key === 'c') {
        copySelectedBest();
      } else if (plain && event.key === 't') {
        copySelectedTerm();
      } else {
        handled = false;
      }
      if (handled) event.preventDefault();
    });
  }

  function bindDraft() {
    const source = $('#draft-source');
    const target = $('#draft-target');
    linkLang(source, $('#draft-text'));
    pairSelects(source, target);
    $('#draft-swap').addEventListener('click', () => {
      const from = source.value;
      source.value = target.value;
      target.value = from;
      source.dispatchEvent(new Event('change'));
    });
    $('#draft-form').addEventListener('submit', (event) => {
      event.preventDefault();
      analyse();
    });
    $('#draft-text').addEventListener('keydown', (event) => {
      // Ctrl+Enter analyses from inside the text area.
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        analyse();
      }
    });
    $('#draft-link').addEventListener('click', () => {
      if (!state.draft.analysed) return;
      copyText(new URL(viewUrl('draft'), location.href).href, 'the link to this analysis');
    });

    const pairSource = $('#pair-source-lang');
    const pairTarget = $('#pair-target-lang');
    linkLang(pairSource, $('#pair-source'));
    linkLang(pairTarget, $('#pair-target'));
    pairSelects(pairSource, pairTarget);
    const pairForm = $('#pair-form');
    pairForm.addEventListener('submit', (event) => {
      event.preventDefault();
      submitPair({
        form: pairForm,
        sourceField: $('#pair-source'),
        targetField: $('#pair-target'),
        sourceLang: pairSource.value,
        targetLang: pairTarget.value,
        result: $('.form-result', pairForm),
      });
    });
  }

  // ------------------------------------------------------------------------------------------
  // Concordance

  /** Nodes for `chars[from, to)` with the parts inside `highlights` marked. */
  function markedRange(chars, highlights, from, to) {
    const nodes = [];
    let position = from;
    const inside = highlights
      .map(([start, end]) => [Math.max(start, from), Math.min(end, to)])
      .filter(([start, end]) => end > start)
      .sort((a, b) => a[0] - b[0]);
    for (const [start, end] of inside) {
      if (start < position) continue;
      if (start > position) nodes.push(chars.slice(position, start).join(''));
      nodes.push(h('mark', {}, chars.slice(start, end).join('')));
      position = end;
    }
    if (position < to) nodes.push(chars.slice(position, to).join(''));
    return nodes;
  }

  function kwicItem(hit) {
    const chars = codePoints(hit.source);
    const highlights = (hit.highlights || []).filter(([start, end]) => end > start && start < chars.length);
    const [keyStart, keyEnd] = highlights[0] || [0, 0];
    const width = isCjk(hit.source_lang) ? 22 : 55;
    const leftFrom = Math.max(0, keyStart - width);
    const rightTo = Math.min(chars.length, keyEnd + width);
    const line = h(
      'p',
      { class: 'kwic-line', lang: hit.source_lang },
      h('span', { class: 'kwic-left' }, leftFrom > 0 ? '…' : '', markedRange(chars, highlights, leftFrom, keyStart)),
      h('span', { class: 'kwic-key' }, markedRange(chars, highlights, keyStart, keyEnd)),
      h(
        'span',
        { class: 'kwic-right' },
        markedRange(chars, highlights, keyEnd, rightTo),
        rightTo < chars.length ? '…' : '',
      ),
    );
    const meta = [`#${hit.id}`, hit.collection];
    if (hit.author) meta.push(hit.author);
    if (hit.document) meta.push(hit.document);
    return h(
      'li',
      { class: 'kwic-hit', 'data-segment-id': hit.id },
      line,
      h('p', { class: 'kwic-target', lang: hit.target_lang || otherLang(hit.source_lang) }, hit.target || '—'),
      h(
        'details',
        { class: 'kwic-full' },
        h('summary', {}, `Whole segment #${hit.id}`),
        h('p', { lang: hit.source_lang }, markedRange(chars, highlights, 0, chars.length)),
        h('p', { class: 'meta' }, meta.join(' · ')),
        hit.target
          ? h(
              'button',
              {
                type: 'button',
                class: 'small',
                onclick: () => copyText(hit.target, `the translation of segment #${hit.id}`),
              },
              'Copy translation',
            )
          : null,
      ),
    );
  }

  async function runConcordance() {
    const q = $('#conc-q').value.trim();
    const lang = $('#conc-lang').value;
    const limit = $('#conc-limit').value;
    const status = $('#conc-status');
    const list = $('#conc-results');
    clearError('#conc-error');
    if (!q) {
      status.textContent = 'Type a word or phrase first.';
      $('#conc-q').focus();
      return;
    }
    const run = ++state.concordance.run;
    status.textContent = 'Searching…';
    list.setAttribute('aria-busy', 'true');
    const params = new URLSearchParams({ q, lang, target_lang: otherLang(lang), limit });
    try {
      const { data } = await api('GET', `/api/v1/concordance?${params}`);
      if (run !== state.concordance.run) return;
      list.replaceChildren(...data.hits.map(kwicItem));
      const shown = data.hits.length < data.total ? ` (showing the first ${data.hits.length})` : '';
      status.textContent =
        data.total === 0 ? `No unit contains “${q}”.` : `${plural(data.total, 'unit')} contain “${q}”${shown}.`;
      state.concordance.done = { q, lang };
      $('#conc-link').disabled = false;
      syncUrl();
    } catch (error) {
      if (run !== state.concordance.run) return;
      status.textContent = '';
      showError('#conc-error', error, runConcordance);
    } finally {
      if (run === state.concordance.run) list.removeAttribute('aria-busy');
    }
  }

  function bindConcordance() {
    linkLang($('#conc-lang'), $('#conc-q'));
    $('#conc-form').addEventListener('submit', (event) => {
      event.preventDefault();
      runConcordance();
    });
    $('#conc-link').addEventListener('click', () => {
      if (!state.concordance.done) return;
      copyText(new URL(viewUrl('concordance'), location.href).href, 'the link to this search');
    });
  }

  // ------------------------------------------------------------------------------------------
  // Glossary

  const TERM_STATUSES = ['preferred', 'admitted', 'deprecated', 'superseded'];
  const TERM_TYPES = ['fullForm', 'acronym', 'abbreviation', 'shortForm', 'variant', 'phrase'];

  function mainTerm(entry) {
    if (!entry || !entry.terms || !entry.terms.length) return '';
    const zh = entry.terms.find((term) => /^zh/i.test(term.lang) && term.status === 'preferred');
    return (zh || entry.terms[0]).text;
  }

  function termChips(entry, langPrefix) {
    const terms = (entry.terms || []).filter((term) => term.lang.toLowerCase().startsWith(langPrefix));
    if (!terms.length) return '—';
    return terms.map((term) =>
      h(
        'span',
        { class: `gl-term status-${term.status}`, lang: term.lang, title: term.status },
        term.text,
        term.status !== 'preferred' ? h('span', { class: 'visually-hidden' }, ` (${term.status})`) : null,
      ),
    );
  }

  const workflowBadge = (workflow) => h('span', { class: `badge workflow-${workflow}` }, workflow);

  function glossaryParams() {
    return {
      q: $('#gl-q').value.trim(),
      lang: $('#gl-lang').value,
      status: $('#gl-term-status').value,
      workflow: $('#gl-workflow').value,
      subject: $('#gl-subject').value.trim(),
    };
  }

  async function searchGlossary(page = 1) {
    const gl = state.glossary;
    gl.params = glossaryParams();
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(gl.params)) if (value) params.set(name, value);
    params.set('page', String(page));
    params.set('per_page', String(gl.perPage));
    const status = $('#gl-status');
    clearError('#gl-error');
    status.textContent = 'Searching the glossary…';
    try {
      const { data } = await api('GET', `/api/v1/terms?${params}`);
      gl.page = data.page;
      gl.total = data.total;
      const rows = data.results.map(({ match, entry }) =>
        h(
          'tr',
          { 'data-entry-id': entry.id, class: state.glossary.entry && state.glossary.entry.id === entry.id ? 'current' : null },
          h(
            'td',
            {},
            h(
              'button',
              {
                type: 'button',
                class: 'link open-entry',
                'aria-label': `Open entry ${entry.id}: ${mainTerm(entry)}`,
                onclick: () => openEntry(entry.id),
              },
              `#${entry.id}`,
            ),
            match === 'fuzzy' ? h('span', { class: 'chip' }, 'similar') : null,
          ),
          h('td', { class: 'gl-terms' }, termChips(entry, 'zh')),
          h('td', { class: 'gl-terms' }, termChips(entry, 'en')),
          h('td', {}, entry.subject_field || '—'),
          h('td', {}, workflowBadge(entry.workflow)),
        ),
      );
      $('#gl-results').replaceChildren(...rows);
      $('#gl-table').hidden = rows.length === 0;
      const pages = Math.max(1, Math.ceil(data.total / data.per_page));
      $('#gl-pager').hidden = pages <= 1;
      $('#gl-page').textContent = `Page ${data.page} of ${pages}`;
      $('#gl-prev').disabled = data.page <= 1;
      $('#gl-next').disabled = data.page >= pages;
      status.textContent = data.total === 0 ? 'No entry matches.' : `${plural(data.total, 'entry', 'entries')} found.`;
    } catch (error) {
      status.textContent = '';
      showError('#gl-error', error, () => searchGlossary(page));
    }
  }

  async function loadSubjects() {
    try {
      const { data } = await api('GET', '/api/v1/terms?per_page=100');
      const subjects = new Set();
      for (const { entry } of data.results) if (entry.subject_field) subjects.add(entry.subject_field);
      $('#gl-subjects').replaceChildren(...Array.from(subjects).sort().map((subject) => h('option', { value: subject })));
    } catch (error) {
      // The subject list is only a convenience: try again once a key is given.
      if (error.status === 401) state.retries.set('subjects', loadSubjects);
    }
  }

  async function loadRecent() {
    clearError('#recent-error');
    try {
      const { data } = await api('GET', '/api/v1/terms/changes?limit=20');
      // One import changes many entries under one journal record (one `seq`): one line.
      const groups = [];
      for (const change of data.changes) {
        const last = groups[groups.length - 1];
        if (last && last[0].seq === change.seq) last.push(change);
        else groups.push([change]);
      }
      const entryButton = (change) =>
        h(
          'button',
          { type: 'button', class: 'link', disabled: !change.entry, onclick: () => openEntry(change.entry_id) },
          `#${change.entry_id} ${mainTerm(change.entry)}`.trim(),
        );
      const items = groups.map((group) => {
        const [change] = group;
        const shown = group.slice(0, 4);
        return h(
          'li',
          { class: 'recent-item' },
          shown.map((member, index) => [index ? ', ' : '', entryButton(member)]),
          group.length > shown.length ? ` and ${group.length - shown.length} more` : '',
          ' ',
          h('span', { class: `chip action-${change.action}` }, change.action),
          h(
            'span',
            { class: 'meta' },
            ` by ${change.by || 'unknown'} · `,
            h('time', { datetime: change.at }, formatTime(change.at)),
          ),
          change.changes && change.changes.length
            ? h('span', { class: 'recent-changes' }, change.changes.slice(0, 3).join('; '))
            : null,
        );
      });
      $('#recent-list').replaceChildren(...items);
      if (!items.length) $('#recent-list').append(h('li', {}, 'No change yet.'));
    } catch (error) {
      showError('#recent-error', error, loadRecent);
    }
  }

  function entryDetails(entry) {
    const rows = [
      ['Subject', entry.subject_field],
      ['Definition', entry.definition],
      ['Note', entry.note],
      ['Source', entry.source],
      ['Valid from', entry.valid_from],
      ['Valid until', entry.valid_until],
    ].filter(([, value]) => value);
    const list = h('dl', { class: 'entry-fields' }, rows.map(([name, value]) => [h('dt', {}, name), h('dd', {}, value)]));
    const table = h(
      'table',
      { class: 'terms-table' },
      h('caption', { class: 'visually-hidden' }, `Terms of entry ${entry.id}`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Language', 'Term', 'Status', 'Type', 'Notes'].map((name) => h('th', { scope: 'col' }, name)),
        ),
      ),
      h(
        'tbody',
        {},
        entry.terms.map((term) =>
          h(
            'tr',
            { class: `status-row-${term.status}` },
            h('td', {}, term.lang),
            h('td', { lang: term.lang, class: `gl-term status-${term.status}` }, term.text),
            h('td', {}, h('span', { class: `chip status-${term.status}` }, term.status)),
            h('td', {}, term.type || '—'),
            h(
              'td',
              { class: 'term-notes' },
              [
                term.part_of_speech,
                term.context ? `context: ${term.context}` : null,
                term.note,
                term.case_sensitive ? 'case-sensitive' : null,
              ]
                .filter(Boolean)
                .join(' · ') || '—',
            ),
          ),
        ),
      ),
    );
    return [h('p', { class: 'entry-workflow' }, 'Workflow: ', workflowBadge(entry.workflow)), list, table];
  }

  function historyItems(changes) {
    return changes
      .slice()
      .reverse()
      .map((change) =>
        h(
          'li',
          {},
          h('span', { class: `chip action-${change.action}` }, change.action),
          ' ',
          h('time', { datetime: change.at }, formatTime(change.at)),
          ` by ${change.by || 'unknown'}`,
          change.changes && change.changes.length
            ? h('ul', { class: 'history-changes' }, change.changes.map((line) => h('li', {}, line)))
            : null,
        ),
      );
  }

  function renderEntry(entry, history) {
    state.glossary.entry = entry;
    $('#entry-title').textContent = `Entry #${entry.id}: ${mainTerm(entry)}`;
    $('#entry-body').replaceChildren(...entryDetails(entry));
    $('#entry-approve').dataset.blocked = String(entry.workflow === 'approved');
    $('#entry-reject').dataset.blocked = String(entry.workflow === 'rejected');
    if (history) $('#entry-history').replaceChildren(...historyItems(history.changes));
    $('#entry-panel').hidden = false;
    $('#entry-panel').dataset.entryId = entry.id;
    $('#entry-panel').dataset.workflow = entry.workflow;
    for (const row of $$('#gl-results tr')) row.classList.toggle('current', Number(row.dataset.entryId) === entry.id);
    applyRoles($('#entry-panel'));
  }

  async function openEntry(id, { focus = true } = {}) {
    if (state.view !== 'glossary') showView('glossary');
    clearError('#entry-error');
    $('#entry-status').textContent = '';
    $('#editor-panel').hidden = true;
    try {
      const [{ data: entry }, { data: history }] = await Promise.all([
        api('GET', `/api/v1/terms/${id}`),
        api('GET', `/api/v1/terms/${id}/history`),
      ]);
      renderEntry(entry, history);
      if (focus) $('#entry-title').focus();
    } catch (error) {
      $('#entry-panel').hidden = false;
      showError('#entry-error', error, () => openEntry(id));
    }
  }

  async function refreshEntryHistory(id) {
    try {
      const { data } = await api('GET', `/api/v1/terms/${id}/history`);
      $('#entry-history').replaceChildren(...historyItems(data.changes));
    } catch (_) {
      /* the entry itself is shown */
    }
  }

  async function setWorkflow(action) {
    const entry = state.glossary.entry;
    if (!entry) return;
    clearError('#entry-error');
    const status = $('#entry-status');
    status.textContent = action === 'approve' ? 'Approving…' : 'Rejecting…';
    try {
      const { data } = await api('POST', `/api/v1/terms/${entry.id}/${action}`);
      renderEntry(data);
      status.textContent = `Entry #${data.id} is now ${data.workflow}.`;
      await refreshEntryHistory(data.id);
      searchGlossary(state.glossary.page);
      loadRecent();
    } catch (error) {
      status.textContent = '';
      showError('#entry-error', error);
    }
  }

  // --- the entry editor

  function termRow(term) {
    const prefix = uniqueId('ed-term');
    const field = (name, label, control) =>
      h('span', { class: `field field-${name}` }, h('label', { for: `${prefix}-${name}` }, label), control);
    const langInput = h('input', {
      id: `${prefix}-lang`,
      class: 'term-lang',
      list: 'lang-tags',
      required: true,
      value: term.lang || '',
      spellcheck: 'false',
    });
    const textInput = h('input', {
      id: `${prefix}-text`,
      class: 'term-text',
      required: true,
      value: term.text || '',
      lang: term.lang || null,
      spellcheck: 'false',
    });
    langInput.addEventListener('input', () => {
      textInput.lang = langInput.value.trim();
    });
    const statusSelect = h(
      'select',
      { id: `${prefix}-status`, class: 'term-status' },
      TERM_STATUSES.map((value) => h('option', { value, selected: value === (term.status || 'preferred') }, value)),
    );
    const typeSelect = h(
      'select',
      { id: `${prefix}-type`, class: 'term-type' },
      h('option', { value: '' }, '—'),
      TERM_TYPES.map((value) => h('option', { value, selected: value === term.type }, value)),
    );
    const row = h(
      'fieldset',
      { class: 'term-row' },
      h('legend', {}, 'Term'),
      h(
        'div',
        { class: 'term-grid' },
        field('lang', 'Language', langInput),
        field('text', 'Term', textInput),
        field('status', 'Status', statusSelect),
        field('type', 'Type', typeSelect),
        field('pos', 'Part of speech', h('input', { id: `${prefix}-pos`, class: 'term-pos', value: term.part_of_speech || '' })),
        field('context', 'Context', h('input', { id: `${prefix}-context`, class: 'term-context', value: term.context || '' })),
        field('note', 'Note', h('input', { id: `${prefix}-note`, class: 'term-note', value: term.note || '' })),
        h(
          'span',
          { class: 'field field-case check' },
          h('input', { type: 'checkbox', id: `${prefix}-case`, class: 'term-case', checked: Boolean(term.case_sensitive) }),
          h('label', { for: `${prefix}-case` }, 'Case-sensitive'),
        ),
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'small remove-term',
          onclick: () => {
            row.remove();
            numberTermRows();
          },
        },
        'Remove this term',
      ),
    );
    return row;
  }

  function numberTermRows() {
    $$('#ed-terms .term-row').forEach((row, index) => {
      $('legend', row).textContent = `Term ${index + 1}`;
      $('.remove-term', row).setAttribute('aria-label', `Remove term ${index + 1}`);
    });
  }

  function openEditor(entry) {
    const editing = entry ? entry.id : null;
    state.glossary.editing = editing;
    clearError('#editor-error');
    $('#editor-title').textContent = editing ? `Edit entry #${editing}` : 'New entry';
    $('#ed-save').textContent = editing ? 'Save changes' : may('terminologist') ? 'Create entry' : 'Propose entry';
    $('#ed-subject').value = (entry && entry.subject_field) || '';
    $('#ed-definition').value = (entry && entry.definition) || '';
    $('#ed-note').value = (entry && entry.note) || '';
    $('#ed-source').value = (entry && entry.source) || '';
    $('#ed-valid-from').value = (entry && entry.valid_from) || '';
    $('#ed-valid-until').value = (entry && entry.valid_until) || '';
    $('#ed-workflow').value = (entry && entry.workflow) || 'proposed';
    $('#ed-allow-duplicate').checked = false;
    $('#ed-duplicate-field').hidden = Boolean(editing);
    const terms = entry
      ? entry.terms
      : [
          { lang: 'zh-CN', text: '', status: 'preferred' },
          { lang: 'en', text: '', status: 'preferred' },
        ];
    $('#ed-terms').replaceChildren(...terms.map(termRow));
    numberTermRows();
    applyRoles($('#editor-panel'));
    $('#editor-panel').hidden = false;
    $('#editor-title').focus();
  }

  function editorInput() {
    const text = (selector) => $(selector).value.trim() || null;
    const input = {
      subject_field: text('#ed-subject'),
      definition: text('#ed-definition'),
      note: text('#ed-note'),
      source: text('#ed-source'),
      valid_from: text('#ed-valid-from'),
      valid_until: text('#ed-valid-until'),
      terms: $$('#ed-terms .term-row').map((row) => {
        const term = {
          lang: $('.term-lang', row).value.trim(),
          text: $('.term-text', row).value.trim(),
          status: $('.term-status', row).value,
          case_sensitive: $('.term-case', row).checked,
        };
        const type = $('.term-type', row).value;
        if (type) term.type = type;
        for (const [key, selector] of [
          ['part_of_speech', '.term-pos'],
          ['context', '.term-context'],
          ['note', '.term-note'],
        ]) {
          const value = $(selector, row).value.trim();
          if (value) term[key] = value;
        }
        return term;
      }),
    };
    if (may('terminologist')) input.workflow = $('#ed-workflow').value;
    return input;
  }

  async function saveEditor() {
    clearError('#editor-error');
    const input = editorInput();
    if (!input.terms.length) {
      showError('#editor-error', new Error('an entry needs at least one term'));
      return;
    }
    const editing = state.glossary.editing;
    try {
      let entry;
      if (editing) {
        ({ data: entry } = await api('PUT', `/api/v1/terms/${editing}`, input));
      } else {
        if ($('#ed-allow-duplicate').checked) input.allow_duplicate = true;
        if (input.workflow === 'proposed') delete input.workflow;
        ({ data: entry } = await api('POST', '/api/v1/terms', input));
      }
      $('#editor-panel').hidden = true;
      await openEntry(entry.id);
      $('#entry-status').textContent = editing
        ? `Entry #${entry.id} saved.`
        : `Entry #${entry.id} created (${entry.workflow}).`;
      searchGlossary(state.glossary.page);
      loadRecent();
    } catch (error) {
      showError('#editor-error', error);
      if (error.code === 'duplicate' && !editing) {
        $('#editor-error').append(
          ' To add it anyway, tick “Create even if an approved entry already has one of these terms” and save again.',
        );
        $('#ed-allow-duplicate').focus();
      }
    }
  }

  function bindGlossary() {
    $('#gl-form').addEventListener('submit', (event) => {
      event.preventDefault();
      searchGlossary(1);
    });
    $('#gl-proposals').addEventListener('click', () => {
      $('#gl-q').value = '';
      $('#gl-term-status').value = '';
      $('#gl-workflow').value = 'proposed';
      searchGlossary(1);
    });
    $('#gl-prev').addEventListener('click', () => searchGlossary(state.glossary.page - 1));
    $('#gl-next').addEventListener('click', () => searchGlossary(state.glossary.page + 1));
    $('#gl-new').addEventListener('click', () => openEditor(null));
    $('#entry-approve').addEventListener('click', () => setWorkflow('approve'));
    $('#entry-reject').addEventListener('click', () => setWorkflow('reject'));
    $('#entry-edit').addEventListener('click', () => openEditor(state.glossary.entry));
    $('#ed-add-term').addEventListener('click', () => {
      const row = termRow({ lang: 'en', status: 'admitted' });
      $('#ed-terms').append(row);
      numberTermRows();
      $('.term-text', row).focus();
    });
    $('#ed-cancel').addEventListener('click', () => {
      $('#editor-panel').hidden = true;
      (state.glossary.entry ? $('#entry-title') : $('#gl-new')).focus();
    });
    $('#editor-form').addEventListener('submit', (event) => {
      event.preventDefault();
      saveEditor();
    });
    $('#recent-refresh').addEventListener('click', loadRecent);
  }

  // ------------------------------------------------------------------------------------------
  // QA

  const ISSUE_LABELS = {
    missing_term: 'Missing term',
    deprecated_term: 'Deprecated rendering',
    number_mismatch: 'Number mismatch',
  };
  const ISSUE_PLURALS = {
    missing_term: 'missing terms',
    deprecated_term: 'deprecated renderings',
    number_mismatch: 'number mismatches',
  };

  /** The text with each issue's span marked (spans may overlap; offsets are code points). */
  function markIssues(text, spans) {
    const chars = codePoints(text);
    const usable = spans
      .map((span) => ({ ...span, start: Math.max(0, span.start), end: Math.min(chars.length, span.end) }))
      .filter((span) => span.end > span.start);
    const cuts = new Set([0, chars.length]);
    for (const span of usable) {
      cuts.add(span.start);
      cuts.add(span.end);
    }
    const points = Array.from(cuts).sort((a, b) => a - b);
    const nodes = [];
    for (let index = 0; index + 1 < points.length; index++) {
      const [from, to] = [points[index], points[index + 1]];
      const piece = chars.slice(from, to).join('');
      const covering = usable.filter((span) => span.start < to && span.end > from);
      if (!covering.length) {
        nodes.push(piece);
      } else {
        const kinds = Array.from(new Set(covering.map((span) => `issue-${span.kind}`)));
        nodes.push(
          h(
            'mark',
            {
              class: `issue ${kinds.join(' ')}`,
              title: covering.map((span) => `${span.number}. ${span.message}`).join('\n'),
              'data-issues': covering.map((span) => span.number).join(' '),
            },
            piece,
          ),
        );
      }
      for (const span of usable.filter((candidate) => candidate.end === to)) {
        nodes.push(h('sup', { class: 'issue-ref', title: `Issue ${span.number}: ${span.message}` }, `#${span.number}`));
      }
    }
    return nodes;
  }

  async function runQa() {
    const source = $('#qa-source').value;
    const target = $('#qa-target').value;
    const sourceLang = $('#qa-source-lang').value;
    const targetLang = $('#qa-target-lang').value;
    const status = $('#qa-status');
    clearError('#qa-error');
    if (!source.trim() || !target.trim()) {
      status.textContent = 'Paste both the source and the draft translation.';
      (source.trim() ? $('#qa-target') : $('#qa-source')).focus();
      return;
    }
    status.textContent = 'Checking…';
    try {
      const { data } = await api('POST', '/api/v1/qa', {
        source,
        target,
        source_lang: sourceLang,
        target_lang: targetLang,
      });
      const issues = data.issues.map((issue, index) => ({ ...issue, number: index + 1 }));
      const spansOf = (key) =>
        issues
          .filter((issue) => Array.isArray(issue[key]))
          .map((issue) => ({
            start: issue[key][0],
            end: issue[key][1],
            kind: issue.kind,
            number: issue.number,
            message: issue.message,
          }));
      const markedSource = $('#qa-marked-source');
      markedSource.lang = sourceLang;
      markedSource.replaceChildren(...markIssues(source, spansOf('source_span')));
      const markedTarget = $('#qa-marked-target');
      markedTarget.lang = targetLang;
      markedTarget.replaceChildren(...markIssues(target, spansOf('target_span')));
      $('#qa-issues').replaceChildren(
        ...issues.map((issue) =>
          h(
            'li',
            { class: `qa-issue issue-kind-${issue.kind}`, id: `qa-issue-${issue.number}`, 'data-kind': issue.kind },
            h('span', { class: `chip issue-${issue.kind}` }, ISSUE_LABELS[issue.kind] || issue.kind),
            ' ',
            h('span', { class: 'qa-message' }, issue.message),
            issue.suggestion
              ? h(
                  'span',
                  { class: 'qa-suggestion' },
                  ' Use: ',
                  h('q', { lang: targetLang }, issue.suggestion),
                  ' ',
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'small',
                      'aria-label': `Copy the suggestion for issue ${issue.number}`,
                      onclick: () => copyText(issue.suggestion, 'the suggestion'),
                    },
                    'Copy',
                  ),
                )
              : null,
            issue.entry_id
              ? h(
                  'button',
                  { type: 'button', class: 'small link', onclick: () => openEntry(issue.entry_id) },
                  `Glossary entry #${issue.entry_id}`,
                )
              : null,
          ),
        ),
      );
      if (!issues.length) $('#qa-issues').append(h('li', { class: 'qa-clean' }, 'No issue found.'));
      $('#qa-results').hidden = false;
      const counts = {};
      for (const issue of issues) counts[issue.kind] = (counts[issue.kind] || 0) + 1;
      const parts = Object.entries(counts).map(([kind, count]) =>
        plural(count, (ISSUE_LABELS[kind] || kind).toLowerCase(), ISSUE_PLURALS[kind]),
      );
      status.textContent = issues.length
        ? `${plural(issues.length, 'issue')}: ${parts.join(', ')}.`
        : 'No issue found: every approved term and number made it across.';
    } catch (error) {
      status.textContent = '';
      showError('#qa-error', error, runQa);
    }
  }

  function bindQa() {
    const source = $('#qa-source-lang');
    const target = $('#qa-target-lang');
    linkLang(source, $('#qa-source'));
    linkLang(target, $('#qa-target'));
    pairSelects(source, target);
    $('#qa-form').addEventListener('submit', (event) => {
      event.preventDefault();
      runQa();
    });
  }

  // ------------------------------------------------------------------------------------------
  // Start

  function init() {
    bindKeyForm();
    bindTabs();
    bindDraft();
    bindShortcuts();
    bindConcordance();
    bindGlossary();
    bindQa();

    const params = new URLSearchParams(location.search);
    const hashView = location.hash.slice(1);
    let view = VIEWS.includes(hashView) ? hashView : null;
    const sharedText = params.get('text');
    if (sharedText) {
      const source = params.get('source_lang');
      const target = params.get('target_lang');
      if (source === 'zh' || source === 'en') $('#draft-source').value = source;
      $('#draft-target').value = target === 'zh' || target === 'en' ? target : otherLang($('#draft-source').value);
      if ($('#draft-target').value === $('#draft-source').value) {
        $('#draft-target').value = otherLang($('#draft-source').value);
      }
      $('#draft-source').dispatchEvent(new Event('change'));
      $('#draft-text').value = sharedText;
      state.draft.pending = { text: sharedText, source: $('#draft-source').value, target: $('#draft-target').value };
      view = view || 'draft';
    }
    const sharedSearch = params.get('concordance');
    if (sharedSearch) {
      const lang = params.get('lang');
      if (lang === 'zh' || lang === 'en') $('#conc-lang').value = lang;
      $('#conc-lang').dispatchEvent(new Event('change'));
      $('#conc-q').value = sharedSearch;
      state.concordance.pending = { q: sharedSearch, lang: $('#conc-lang').value };
      view = view || 'concordance';
    }
    // The key is asked for (whoami) before the shared analysis runs, so roles are known.
    loadWho().then(() => {
      if (sharedText) analyse();
      if (sharedSearch) runConcordance();
    });
    showView(view || 'draft');
  }

  init();
})();
