"""Deleting many old rows without one long statement: what the periodic purges share."""

from django.db.models import QuerySet


def delete_oldest_in_batches(rows: QuerySet, *, oldest_first: str, batch: int) -> int:
    """Delete ``rows``, oldest (by ``oldest_first``) first, ``batch`` at a time, each batch its own short
    statement (and transaction, in autocommit); how many went. Safe to run concurrently: the rows are picked
    again by ``rows``' own conditions when deleted, so two runs only share the work."""
    deleted = 0
    while True:
        oldest = list(rows.order_by(oldest_first).values_list("pk", flat=True)[:batch])
        if oldest:
            deleted += rows.filter(pk__in=oldest).delete()[0]
        if len(oldest) < batch:
            return deleted
