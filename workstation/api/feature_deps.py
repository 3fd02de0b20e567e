"""Annotated dependency aliases for the features' routes (records, tickets, knowledge base, exports,
campaigns, KPIs, callbacks): kept apart from ``deps`` so a build of the screen-pop core alone imports none
of the features' services (the classifier's scikit-learn, pandas: about 100 MB and 0.8 s at start-up)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from workstation.api.deps import ContainerDep
from workstation.callbacks.service import CallbackService
from workstation.campaigns.service import CampaignService
from workstation.container import installed
from workstation.kb.service import KnowledgeBase
from workstation.kpis.service import KpiService
from workstation.records.emerging import EmergingService
from workstation.records.service import RecordService
from workstation.records.suggest import ClassifierService
from workstation.records.topics import TopicService
from workstation.segments.service import ExportService
from workstation.tickets.config_store import ConfigStore
from workstation.tickets.service import TicketService


async def _topics(c: ContainerDep) -> TopicService:
    return installed(c.records, "records").topics


async def _records(c: ContainerDep) -> RecordService:
    return installed(c.records, "records").records


async def _classifier(c: ContainerDep) -> ClassifierService:
    return installed(c.records, "records").classifier


async def _emerging(c: ContainerDep) -> EmergingService:
    return installed(c.records, "records").emerging


async def _tickets(c: ContainerDep) -> TicketService:
    return installed(c.tickets, "tickets").tickets


async def _ticket_config(c: ContainerDep) -> ConfigStore:
    return installed(c.tickets, "tickets").config


async def _kb(c: ContainerDep) -> KnowledgeBase:
    return installed(c.knowledge_base, "knowledge_base").kb


async def _exports(c: ContainerDep) -> ExportService:
    return installed(c.segments, "segments").exports


async def _campaigns(c: ContainerDep) -> CampaignService:
    return installed(c.campaigns, "campaigns").campaigns


async def _kpis(c: ContainerDep) -> KpiService:
    return installed(c.kpis, "kpis").kpis


async def _callbacks(c: ContainerDep) -> CallbackService:
    return installed(c.callbacks, "callbacks").callbacks


TopicsDep = Annotated[TopicService, Depends(_topics)]
RecordsDep = Annotated[RecordService, Depends(_records)]
ClassifierDep = Annotated[ClassifierService, Depends(_classifier)]
EmergingDep = Annotated[EmergingService, Depends(_emerging)]
TicketsDep = Annotated[TicketService, Depends(_tickets)]
TicketConfigDep = Annotated[ConfigStore, Depends(_ticket_config)]
KnowledgeBaseDep = Annotated[KnowledgeBase, Depends(_kb)]
ExportsDep = Annotated[ExportService, Depends(_exports)]
CampaignsDep = Annotated[CampaignService, Depends(_campaigns)]
KpisDep = Annotated[KpiService, Depends(_kpis)]
CallbacksDep = Annotated[CallbackService, Depends(_callbacks)]
