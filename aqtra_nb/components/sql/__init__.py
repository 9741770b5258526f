"""SQL connectors: `read_sql` and `write_sql` over named connections (or a URL without a password).

`read_sql` learns its schema without reading data (table reflection, or the query run with `LIMIT 0`),
reads only the columns the flow needs and applies the simple conjuncts of a following `filter` in the
SQL it sends (SQLAlchemy Core, bound parameters only), optionally as `partitions` range queries over
`partition_on` that Dask runs in parallel.

`write_sql` writes all partitions in one task and one transaction, so a failure (a type mismatch, a
duplicate key, a killed process) leaves the table exactly as it was: PostgreSQL through `COPY ... FROM
STDIN` (upserts through a temporary table), SQLite through `executemany`, other databases through
SQLAlchemy inserts.

Modules: `kinds` (database types as column kinds), `database` (where to connect, the catalog), `select`
(what a read sends), `read` (`read_sql`), `write` (`write_sql`), `drivers` (how rows are sent).
"""

from .read import ReadSql
from .write import WriteSql

SQL = [ReadSql, WriteSql]

__all__ = ["SQL", "ReadSql", "WriteSql"]
