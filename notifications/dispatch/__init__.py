"""The dispatcher: the rows of what is due, one module per family of reminders."""
