"""The billing adapter: one port (``BillingSource``), a DB-API/ODBC implementation driven by a SQL
mapping file, the cache in front of it, and the demo billing generator. Only this package sees billing SQL."""
