"""The rules, free of storage and of HTTP: what each change means, decided in one place."""
