"""User accounts and roles: who may see and change what. Import from the modules: `roles` (no database
imports, used by the case schema) and `accounts` (the repository)."""
