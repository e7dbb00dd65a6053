"""Writes that never double and irreversible writes the user confirmed: the checks the server runs
around a tool's handler (see ``dispatch.Dispatcher``)."""
