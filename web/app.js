// Attaché workbench
