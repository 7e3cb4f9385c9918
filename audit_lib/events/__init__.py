"""What an event is and means, whatever product wrote it: the canonical schema, the vocabulary of actions, the
actor behind a user name, what each product records, and time zones. No I/O; every other stage reads these."""
