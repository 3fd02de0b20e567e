"""Wiring of the request-records feature: services, the card section, background jobs."""

from __future__ import annotations

from typing import Any

from workstation.records.emerging import EmergingService
from workstation.records.service import RecordService
from workstation.records.suggest import ClassifierService
from workstation.records.topics import TopicService


def install(container: Any) -> None:
    """Register ``topics``, ``records``, ``classifier``, ``emerging`` services, the ``requests`` card
    section, the model reloader, the retraining schedule and the hourly emerging-topic job. Seeds the
    shipped topics when the topics table exists (it does after ``workstation db upgrade``)."""
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
    hub = container.services.get("hub")
    records = RecordService(container.db, topics, calls=container.services.get("calls"), hub=hub)
    emerging = EmergingService(container.db, topics, hub=hub)
    container.services.update(topics=topics, records=records, classifier=classifier, emerging=emerging)
    container.card_sections["requests"] = records.card_section
    container.background.append(classifier.run_reloader)
    container.background.append(classifier.run_retrainer)
    container.background.append(emerging.run_periodically)
    _seed(topics)


def _seed(topics: TopicService) -> None:
    from sqlalchemy import inspect

    if inspect(topics.db.engine).has_table("topics"):
        topics.seed()
