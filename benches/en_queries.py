#!/usr/bin/env python3
"""The English-source twin of a benchmark folder made by the shared kit's corpus.py.

  en_queries.py DIR [--seed S]     writes DIR-en/tm.tsv (en<TAB>zh) and DIR-en/queries.tsv

The TM is the same pairs with the columns swapped. The queries are made the way corpus.py
makes the Chinese ones, from the English side: half are the English of the real pairs that
corpus.py kept out of the TM (the same shuffle with the same seed picks them), half are English
TM sentences with one or two edits — a word dropped, added or changed, or a clause replaced,
dropped, inserted or swapped. The kit's truth.py and peers.py then run on DIR-en unchanged.
"""
import argparse
import pathlib
import random
import sys

KIT = pathlib.Path(__file__).resolve().parent.parent.parent / "shared" / "bench"
sys.path.insert(0, str(KIT))
import corpus  # noqa: E402


def word_edit(text, words, rng):
    """One or two small edits inside a sentence: a word dropped, added or changed."""
    tokens = text.split(" ")
    for _ in range(rng.randint(1, 2)):
        i = rng.randrange(len(tokens))
        op = rng.random()
        if op < 0.4 and len(tokens) > 4:
            tokens.pop(i)
        elif op < 0.7:
            tokens.insert(i, rng.choice(words))
        else:
            tokens[i] = rng.choice(words)
    return " ".join(tokens)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--seed", type=int, default=20261127)
    args = ap.parse_args()
    source = pathlib.Path(args.dir)
    out = source.with_name(source.name + "-en")
    zh_queries = (source / "queries.tsv").read_text(encoding="utf-8").splitlines()
    n_queries = len(zh_queries)

    # The same pool, shuffle and held-out split as corpus.py with this seed.
    rng = random.Random(args.seed)
    real = list(dict.fromkeys((corpus.clean(a), corpus.clean(b)) for a, b in corpus.dev_pairs()))
    rng.shuffle(real)
    heldout, tm_real = real[: n_queries // 2], real[n_queries // 2:]
    expected = [line.split("\t", 1)[1] for line in zh_queries if line.startswith("heldout\t")]
    assert [a for a, _ in heldout] == expected, "DIR was not made by corpus.py with this seed"

    edit_rng = random.Random(args.seed + 1)
    variants = corpus.Variants(tm_real, edit_rng)
    words = [w for _, b in tm_real[:5000] for w in b.split(" ") if w.isalpha()]
    queries = [("heldout", b) for _, b in heldout]
    while len(queries) < n_queries:
        _, b = edit_rng.choice(tm_real)
        if len(b.split(" ")) < 5:
            continue
        if edit_rng.random() < 0.5:
            q = word_edit(b, words, edit_rng)
        else:
            q = variants.clause_edit(b, variants.en_clauses, corpus.CLAUSE_EN, " ")
        queries.append(("perturbed", q))

    out.mkdir(parents=True, exist_ok=True)
    with open(source / "tm.tsv", encoding="utf-8") as tm_in, \
            open(out / "tm.tsv", "w", encoding="utf-8") as tm_out:
        for line in tm_in:
            zh, en = line.rstrip("\n").split("\t", 1)
            tm_out.write(f"{en}\t{zh}\n")
    with open(out / "queries.tsv", "w", encoding="utf-8") as f:
        for kind, q in queries:
            f.write(f"{kind}\t{q}\n")
    print(f"{out}: English-source twin of {source}, {len(queries)} queries")


if __name__ == "__main__":
    main()
