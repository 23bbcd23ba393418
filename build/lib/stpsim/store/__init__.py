"""The shared plan store: users, plans and versions, submissions, runs and the audit log."""
