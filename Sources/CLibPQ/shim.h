// libpq's client API, used only to read connection settings the way psql does
// (connection strings, PG* variables, service files, .pgpass, several hosts).
#include <libpq-fe.h>
