"""The booking the bench and the soak send is one the form accepts: when a question becomes
required, this fails here instead of the bench measuring refusals."""

import sqlalchemy as sa

from bench.post_load import booking_data
from booking.core.models import Appointment
from booking.extensions import db
from tests.helpers import csrf_token, offered_times


def test_the_bench_booking_is_accepted(client, consultant):
    page = client.get("/book?tz=Asia/Kolkata").get_data(as_text=True)
    response = client.post(
        "/book", data=booking_data(csrf_token(page), offered_times(page)[0], "check")
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert db.session.scalar(sa.select(Appointment.patient_email)) == "benchcheck@example.com"
