"""Logs hold ids, never names, emails or clinical text.

Our own log calls name records by id. What we do not write ourselves is
redacted here, on every handler (settings.LOGGING): request lines keep the
path (ids) but lose the query string (a patient search is `?q=<name>`),
email addresses are masked, and the values PostgreSQL quotes in constraint
errors (`Key (email)=(…)`) are dropped from tracebacks.
"""

from __future__ import annotations

import logging
import re
import traceback

QUERY_STRING = re.compile(r"(?P<path>/[^\s\"'?#]*)\?[^\s\"']*")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
KEY_VALUES = re.compile(r"\((?P<key>[^()]*)\)=\((?:[^()]|\([^()]*\))*\)")


def redact(text: str) -> str:
    text = QUERY_STRING.sub(r"\g<path>?[redacted]", text)
    text = EMAIL.sub("[email]", text)
    return KEY_VALUES.sub(r"(\g<key>)=([redacted])", text)


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the template, drop the values
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return True
