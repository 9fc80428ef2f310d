#!/bin/sh
# Run once by the postgres image, as its superuser, when the db volume is first created
# (docker-entrypoint-initdb.d). Two roles:
#   tracker      owns the database and its tables; the one-shot migrate service runs as it
#   tracker_app  the role web, worker and beat connect as: owns nothing, not a superuser, so
#                the audit trail's triggers hold against it (manage.py grant_app_role)
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner_password="$POSTGRES_PASSWORD" -v app_password="$POSTGRES_APP_PASSWORD" <<'SQL'
CREATE ROLE tracker LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE tracker_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD :'app_password';
ALTER DATABASE tracker OWNER TO tracker;
REVOKE ALL ON DATABASE tracker FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE tracker TO tracker, tracker_app;
SQL
