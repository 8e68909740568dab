"""DermaDesk core: all decision-support logic, free of any UI framework."""
