"""Who acts in a drill: bots (policies), timeline scripts, and people (console, browser)."""
