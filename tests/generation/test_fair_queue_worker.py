"""The fair queue through the real worker loop: jobs finish between claims, users arrive late,
the worker restarts, and the places announced are the order jobs really start in.

Each test drives ``ModelManager.run_once`` (claim, draw with the tiny pipeline, finish) and
records the order jobs reach the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from generation.adapters.store import DjangoJobStore
from generation.manager.types import ModelStatus, Pipeline, Slot, StepCallback
from generation.manager.worker import ModelManager
from generation.models import GenerationJob
from generation.queueing import QueueAnnouncer, queue_places
from tests.doubles import RecordingPublisher
from tests.factories import queue_job
from tests.pipelines import PreloadedLoader

pytestmark = pytest.mark.django_db


class Recorder:
    """The real tiny pipeline, noting which jobs each call draws; ``during`` runs inside the
    first call, i.e. while that batch is drawing."""

    def __init__(self, inner: Pipeline, log: list[str] | None = None) -> None:
        self.inner = inner
        self.log = [] if log is None else log
        self.name = inner.name
        self.device = inner.device
        self.calls: list[list[str]] = []
        self.during: Callable[[], None] | None = None

    def text_windows(self, job: Any) -> int:
        return self.inner.text_windows(job)

    def generate(self, slots: Sequence[Slot], on_step: StepCallback) -> list[Any]:
        self.calls.append(list(dict.fromkeys(slot.job.id for slot in slots)))
        self.log.extend(self.calls[-1])
        during, self.during = self.during, None
        if during is not None:
            during()
        return self.inner.generate(slots, on_step)

    @property
    def started(self) -> list[str]:
        return [job_id for call in self.calls for job_id in call]


@pytest.fixture
def carol(db: None) -> User:
    return User.objects.create_user("carol", "carol@example.com", "correct horse battery")


@pytest.fixture
def make_worker(
    tiny_loaded: tuple[Pipeline, ModelStatus], settings: Any
) -> Callable[..., tuple[ModelManager, Recorder]]:
    settings.WEE_WAA_MAX_UNFINISHED_PER_USER = 20

    def make(max_batch: int = 1, log: list[str] | None = None, **options: Any) -> tuple[ModelManager, Recorder]:
        settings.WEE_WAA_MAX_BATCH = max_batch  # what the places are computed with
        manager = ModelManager(
            store=DjangoJobStore(),
            publisher=RecordingPublisher(),
            loader=PreloadedLoader(tiny_loaded),
            preview_every=0,
            max_batch=max_batch,
            **options,
        )
        manager.load()
        assert manager.pipeline is not None
        recorder = Recorder(manager.pipeline, log)
        manager.pipeline = recorder
        return manager, recorder

    return make


def announced() -> list[str]:
    """The queued jobs by the place in line users are shown."""
    places = {job_id: place["position"] for job_id, (_owner, place) in queue_places().items()}
    return sorted(places, key=places.__getitem__)


def ids(jobs: Sequence[GenerationJob]) -> list[str]:
    return [job.id for job in jobs]


def run_checking_each_claim(manager: ModelManager, recorder: Recorder) -> None:
    """Run until idle; before every claim, the jobs shown first in line are the next to start."""
    while True:
        line = announced()
        if not manager.run_once():
            assert line == []
            return
        batch = recorder.calls[-1]
        assert batch == line[: len(batch)]


def test_a_user_with_one_job_is_not_served_after_all_of_a_heavy_users(
    make_worker: Callable[..., tuple[ModelManager, Recorder]], alice: Any, bob: Any
) -> None:
    manager, recorder = make_worker(max_batch=1)
    alices = [queue_job(alice) for _ in range(8)]
    bobs = queue_job(bob)
    line = announced()

    manager.run_until_idle()

    assert line == [alices[0].id, bobs.id, *ids(alices[1:])]  # bob is told: 2nd in line
    assert recorder.started == line  # ... and really starts 2nd, though alice's first finished before


def test_a_job_queued_while_the_heavy_users_first_draws_goes_next(
    make_worker: Callable[..., tuple[ModelManager, Recorder]], alice: Any, bob: Any
) -> None:
    manager, recorder = make_worker(max_batch=1)
    alices = [queue_job(alice) for _ in range(8)]
    seen: dict[str, Any] = {}

    def bob_arrives() -> None:
        seen["bobs"] = queue_job(bob)
        seen["line"] = announced()

    recorder.during = bob_arrives
    run_checking_each_claim(manager, recorder)

    assert seen["line"] == [seen["bobs"].id, *ids(alices[1:])]  # told: 1st in line, alice's first drawing
    assert recorder.started == [alices[0].id, *seen["line"]]


def test_three_users_take_turns_in_the_order_they_are_shown(
    make_worker: Callable[..., tuple[ModelManager, Recorder]], alice: Any, bob: Any, carol: Any
) -> None:
    manager, recorder = make_worker(max_batch=1)
    a = [queue_job(alice) for _ in range(5)]
    b = [queue_job(bob) for _ in range(3)]
    c = [queue_job(carol)]
    line = announced()

    run_checking_each_claim(manager, recorder)

    assert line == ids([a[0], b[0], c[0], a[1], b[1], a[2], b[2], a[3], a[4]])
    assert recorder.started == line


def test_turns_are_weighted_by_work_so_four_times_bigger_jobs_come_a_quarter_as_often(
    make_worker: Callable[..., tuple[ModelManager, Recorder]], alice: Any, bob: Any
) -> None:
    manager, recorder = make_worker(max_batch=1)
    big = [queue_job(alice, steps=8) for _ in range(3)]  # 4 x the work of bob's
    small = [queue_job(bob) for _ in range(8)]
    line = announced()

    run_checking_each_claim(manager, recorder)

    assert recorder.started == line
    first_ten = recorder.started[:10]
    assert (sum(job.id in first_ten for job in big), sum(job.id in first_ten for job in small)) == (2, 8)
    work = dict(GenerationJob.objects.values_list("id", "steps"))
    served = [work[job_id] for job_id in first_ten]
    assert sum(steps for steps in served if steps == 8) == sum(steps for steps in served if steps == 2)


def test_a_user_who_arrives_late_gets_the_next_turn_but_not_the_time_they_were_away(
    make_worker: Callable[..., tuple[ModelManager, Recorder]], alice: Any, bob: Any
) -> None:
    manager, recorder = make_worker(max_batch=1)
    alices = [queue_job(alice) for _ in range(6)]
    for _ in range(3):
        assert manager.run_once()
    bobs = [queue_job(bob) for _ in range(2)]
    line = announced()

    run_checking_each_claim(manager, recorder)

    assert line == ids([alices[3], bobs[0], alices[4], bobs[1], alices[5]])
    assert recorder.started == ids(alices[:3]) + line


def test_the_order_survives_a_worker_that_dies_mid_job_and_a_new_one_that_takes_over(
    make_worker: Callable[..., tuple[ModelManager, Recorder]], alice: Any, bob: Any
) -> None:
    first, first_recorder = make_worker(max_batch=1)
    alices = [queue_job(alice) for _ in range(4)]
    bobs = [queue_job(bob) for _ in range(4)]
    first.run_once()
    first.run_once()
    (dying,) = first.store.claim_batch(first.worker_id, 1, 30)  # claimed, then the process dies
    GenerationJob.objects.filter(id=dying.id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    line_before = announced()

    second, second_recorder = make_worker(max_batch=1)
    second.recover()
    line = announced()
    run_checking_each_claim(second, second_recorder)

    assert first_recorder.started == ids([alices[0], bobs[0]])
    assert dying.id == alices[1].id
    assert line == [dying.id, *line_before]  # back at its own place, nobody else moved
    assert second_recorder.started == line == ids([alices[1], bobs[1], alices[2], bobs[2], alices[3], bobs[3]])


def test_batches_start_in_the_order_shown_when_later_jobs_join_earlier_batches(
    make_worker: Callable[..., tuple[ModelManager, Recorder]], alice: Any, bob: Any, carol: Any
) -> None:
    manager, recorder = make_worker(max_batch=3)
    jobs = [
        queue_job(alice, count=2),
        queue_job(alice),
        queue_job(bob, width=128),
        queue_job(bob, count=2),
        queue_job(carol, count=3),
        queue_job(carol),
    ]
    line = announced()

    run_checking_each_claim(manager, recorder)

    assert recorder.started == line
    assert recorder.calls == [ids(jobs[0:2]), [jobs[2].id], [jobs[4].id], [jobs[3].id, jobs[5].id]]


def shown(publisher: RecordingPublisher) -> list[str]:
    """The line as the users were told it: each owner's latest queue event lists all their
    waiting jobs with their places."""
    per_owner: dict[Any, dict[str, int]] = {}
    for owner, event in publisher.events:
        per_owner[owner] = {place["job_id"]: place["position"] for place in event["jobs"]}
    places = {job_id: position for jobs in per_owner.values() for job_id, position in jobs.items()}
    assert sorted(places.values()) == list(range(1, len(places) + 1))
    return sorted(places, key=places.__getitem__)


def test_two_workers_start_jobs_in_the_order_each_user_is_sent(
    make_worker: Callable[..., tuple[ModelManager, Recorder]], alice: Any, bob: Any, carol: Any
) -> None:
    """While one worker draws, the other claims the next job; users queue while both draw;
    the announcer is the one the runtime uses."""
    publisher = RecordingPublisher()
    announce = QueueAnnouncer(publisher)
    log: list[str] = []
    one, one_recorder = make_worker(max_batch=1, announcer=announce, log=log)
    two, _two_recorder = make_worker(max_batch=1, announcer=announce, log=log)
    alices = [queue_job(alice) for _ in range(4)]
    queue_job(bob)
    arrivals = [carol, bob]

    def while_one_draws() -> None:
        two.run_once()
        if arrivals:
            queue_job(arrivals.pop(0))

    rounds = 0
    while True:
        announce()  # as services do when a job is queued
        line = shown(publisher)
        if not line:
            break
        one_recorder.during = while_one_draws
        started = len(log)
        assert one.run_once()
        assert log[started:] == line[:2]
        rounds += 1

    bobs = list(GenerationJob.objects.filter(owner=bob).order_by("created_at", "id"))
    (carols,) = GenerationJob.objects.filter(owner=carol)
    assert rounds == 4
    assert log == ids([alices[0], bobs[0], carols, alices[1], bobs[1], alices[2], alices[3]])
