"""The patient's rights over their data: the privacy notice's version, seeing and downloading
everything stored, erasure and withdrawing a consent, and the retention job."""
