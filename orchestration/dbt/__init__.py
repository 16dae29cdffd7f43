"""Running dbt: the one runner (`runner`), its child process (`child`) and what the manifest says (`manifest`)."""
