"""The one place the benchmarks know the users table's columns.

What the limit app reads follows the API's own response body (app.schemas.UserRead), so a
column the service adds reaches the limit by itself. When a column it writes changes (renamed,
made required), change this file and nothing else: the seed rows, the body wrk posts, and the
columns the bare-asyncpg limit app writes all come from here.
"""

import json

from app.schemas import UserRead

# What GET /users/{id} answers, in the API's order.
READ_COLUMNS = tuple(UserRead.model_fields)

# The POST /users body. wrk's scenario.lua replaces "{n}" with a token unique to each request,
# so every create is a new email and none fails on the unique constraint.
CREATE_BODY = {"email": "bench-{n}@example.com", "full_name": "Bench User"}
CREATE_BODY_TEMPLATE = json.dumps(CREATE_BODY)
CREATE_COLUMNS = tuple(CREATE_BODY)

# One statement, generated inside PostgreSQL: 100,000 rows in well under a second, where as
# many INSERTs from Python would take a minute. Ids come from the identity column (1..rows).
SEED_SQL = """
    INSERT INTO users (email, full_name)
    SELECT 'seed-' || n || '@example.com', 'Seed User ' || n
    FROM generate_series(1, $1::int) AS n
"""
