"""gunicorn settings, read from the working directory (docker compose's web).

Access log lines hold the path (ids) but never the query string or the
referrer: a patient search is `?q=<name>` (logs hold ids, not names).
"""

access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
