"""USM change and registration engine: the composition root (app factory, CLI) and service layer."""
