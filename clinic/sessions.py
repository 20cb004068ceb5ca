"""Django's database sessions, with the update of an existing session in one
statement (settings.SESSION_ENGINE).

Django saves a session inside `transaction.atomic()` whether it creates or
updates it; in autocommit that is BEGIN, UPDATE, COMMIT: three round-trips,
on every request that changes the session (the idle clock's once-a-minute
write, clinic.middleware.IdleTimeoutMiddleware). One UPDATE is atomic by
itself, so an update is sent alone (issue 19: three of the four queries a
booking counted over HTTP beyond its budget). Creating a session is
unchanged: its INSERT keeps the savepoint that turns a key collision into a
new key without breaking an outer transaction."""

from __future__ import annotations

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import router


class SessionStore(DatabaseSessionStore):
    def save(self, must_create: bool = False) -> None:
        if must_create or self.session_key is None:
            return super().save(must_create=must_create)
        obj = self.create_model_instance(self._get_session())
        sessions = self.model._default_manager.db_manager(router.db_for_write(self.model, instance=obj))
        updated = sessions.filter(session_key=obj.session_key).update(
            session_data=obj.session_data, expire_date=obj.expire_date
        )
        if not updated:
            # Deleted meanwhile (logged out in another tab, cleared): as Django's
            # own store does, the middleware answers SessionInterrupted.
            raise UpdateError
