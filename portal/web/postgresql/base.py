"""Django's PostgreSQL backend with a health check that needs no round trip to the server.

A connection kept between requests (CONN_MAX_AGE) is checked before a request's first query, so one the server closed
meanwhile (restart, terminated backend, idle timeout) is replaced instead of failing that request. Django checks by
sending ``SELECT 1``: a round trip on every request. A server that ends a connection says so on it (a FATAL message,
then end of file), and an idle connection between requests has nothing else to read, so the check here asks the
operating system whether the socket has anything to read, without waiting.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        # Django's own, but for the check itself.
        if self.connection is None or not self.health_check_enabled or self.health_check_done:  # type: ignore[attr-defined,has-type]
            return
        if self.closed_by_server():
            self.close()
        self.health_check_done = True

    def closed_by_server(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return True
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
