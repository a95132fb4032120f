"""The rule language around the core (campaigns/rules.py): its vocabularies, validation, the compiler, the
descriptions and the "why not shown?" preview."""
