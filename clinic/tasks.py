from celery import shared_task


@shared_task(name="clinic.tasks.ping")
def ping() -> str:
    """Prove the web → broker → worker → result path works end to end."""
    return "pong"
