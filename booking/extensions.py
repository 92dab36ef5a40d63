"""The extension objects, bound to an app in ``create_app``."""

from typing import TYPE_CHECKING, Any, TypeAlias

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Stable constraint names in every database, so migrations can refer to them.
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)

# What the domain functions take: a plain session (tests, scripts) or Flask-SQLAlchemy's
# scoped one (``db.session``); both offer the same methods.
Session: TypeAlias = so.Session | so.scoped_session[Any]

if TYPE_CHECKING:
    # Type checkers cannot follow ``db.Model`` (made at run time); to them models are Base's.
    Model: TypeAlias = Base
else:
    Model = db.Model
migrate = Migrate()
csrf = CSRFProtect()
mail = Mail()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address)
