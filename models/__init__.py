"""The records of the brief. Import models from here."""

from models.audit import AuditEvent
from models.batch import Batch
from models.bulletin import Bulletin, BulletinValue
from models.campaign import Campaign
from models.case import Case, CaseViolationType
from models.enterprise import Enterprise
from models.grading import GradingResult, GradingRun
from models.hotline import Hotline
from models.listing import Listing, ListingPerson
from models.objection import Objection
from models.revision import RecordRevision
from models.search_log import SearchChange, SearchLogPruned
from models.user import User

__all__ = [
    "AuditEvent",
    "Batch",
    "Bulletin",
    "BulletinValue",
    "Campaign",
    "Case",
    "CaseViolationType",
    "Enterprise",
    "GradingResult",
    "GradingRun",
    "Hotline",
    "Listing",
    "ListingPerson",
    "Objection",
    "RecordRevision",
    "SearchChange",
    "SearchLogPruned",
    "User",
]
