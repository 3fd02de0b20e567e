"""The request-records feature: topics, records, topic suggestions and emerging topics.

Adds the ``requests`` card section, the model reloader, the retraining schedule and the hourly
emerging-topic job, the
``/api/records`` … routes and the ``workstation classifier`` commands. Seeds the shipped topics when the
topics table exists (it does after ``workstation db upgrade``).
"""

from __future__ import annotations

from functools import partial

from sqlalchemy import inspect

from workstation.api.records import router
from workstation.commands.classifier import register as register_commands
from workstation.container import Container, RecordsFeature
from workstation.records.emerging import EmergingService
from workstation.records.service import RecordService
from workstation.records.suggest import ClassifierService
from workstation.records.topics import TopicService

NAME = "records"
__all__ = ["NAME", "build", "register_commands", "router", "seed"]


def build(container: Container) -> None:
    topics = TopicService(container.db)
    settings = container.settings
    classifier = ClassifierService(
        container.db,
        topics,
        settings.data_dir / "models",
        billing=container.billing,
        embeddings=settings.classifier_embeddings,
        retrain_hours=settings.classifier_retrain_hours,
        retrain_after_records=settings.classifier_retrain_after_records,
    )
    records = RecordService(container.db, topics, calls=container.calls, hub=container.hub)
    emerging = EmergingService(container.db, topics, hub=container.hub)
    container.records = RecordsFeature(
        topics=topics, records=records, classifier=classifier, emerging=emerging
    )
    container.card_sections["requests"] = records.card_section
    container.background.append(classifier.run_reloader)
    container.background.append(partial(classifier.run_retrainer, container.lock("classifier-retrainer")))
    container.background.append(partial(emerging.run_periodically, container.lock("emerging-topics")))
    if inspect(container.db.engine).has_table("topics"):
        topics.seed()


def seed(container: Container) -> None:
    """The shipped topics are seeded at build time (and again by the model reloader): nothing more."""
