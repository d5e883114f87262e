"""pgqueuer's queries, with one guard InTime needs.

``retry_job`` as shipped re-queues a job by id alone. Run late (its answer was
lost with its connection and ``worker.driver`` ran it again, or a worker that
was cut off from the database comes back), it can take a job another worker
picked in the meantime and put it back in the queue: a third worker then runs
it too, which for ``email.send`` or ``webhook.deliver`` is a second send. Here
it re-queues the job only while this worker still holds it.
"""

from __future__ import annotations

from datetime import timedelta

from pgqueuer.adapters.persistence import qb
from pgqueuer.adapters.persistence.queries import Queries
from pgqueuer.domain import models
from pgqueuer.ports.driver import Driver


class GuardedQueries(Queries):
    def _retry_query(self) -> str:
        names = self.qbq.qualified
        return f"""WITH retry AS (
            UPDATE {names.queue_table}
            SET
                status = 'queued',
                execute_after = NOW() + $2::interval,
                attempts = attempts + 1,
                updated = NOW(),
                queue_manager_id = NULL
            WHERE id = $1::bigint AND status = 'picked' AND queue_manager_id = $4::uuid
            RETURNING id, entrypoint, priority
        )
        INSERT INTO {names.queue_table_log} (job_id, status, entrypoint, priority, traceback)
        SELECT id, 'queued', entrypoint, priority, $3::JSONB FROM retry
        """

    async def retry_job(
        self,
        job: models.Job,
        delay: timedelta,
        traceback_record: models.TracebackRecord | None,
    ) -> None:
        await self.driver.execute(
            self._retry_query(),
            job.id,
            delay,
            traceback_record.model_dump_json() if traceback_record else None,
            job.queue_manager_id,
        )


def queries_for(driver: Driver, schema: str) -> GuardedQueries:
    settings = qb.DBSettings(db_schema=schema)
    return GuardedQueries(
        driver,
        qbe=qb.QueryBuilderEnvironment(settings=settings),
        qbq=qb.QueryQueueBuilder(settings=settings),
        qbs=qb.QuerySchedulerBuilder(settings=settings),
    )
