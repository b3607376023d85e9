"""People and access: users and their roles, passwords, API tokens, browser sessions
and login throttling — one service layer under the CLI (``smscope users``, ``smscope
tokens``) and the web app (login, the users and API tokens pages, ``/api/v1``).

Secrets are never stored as given: passwords as Argon2id hashes (``argon2-cffi``), API
tokens and session ids as their SHA-256 (they are long random values, so a fast hash is
enough and lets a request find its row by index).
"""
