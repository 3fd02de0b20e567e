"""Import every module that defines tables, so ``Base.metadata`` is complete (Alembic, tests)."""

from workstation import models  # noqa: F401
from workstation import sessions as sessions_models  # noqa: F401
from workstation.callbacks import models as callbacks_models  # noqa: F401
from workstation.campaigns import models as campaigns_models  # noqa: F401
from workstation.kb import models as kb_models  # noqa: F401
from workstation.kpis import models as kpis_models  # noqa: F401
from workstation.records import models as records_models  # noqa: F401
from workstation.tickets import models as tickets_models  # noqa: F401
