-- Wrong sign-in codes per client address (issue 11): counted in the database so the limit holds
-- across instances and restarts. A row is written with each wrong code; rows older than the
-- hour counted are swept by the same writes.
CREATE TABLE driver_code_failures (
    id TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX driver_code_failures_client ON driver_code_failures (client, at);
