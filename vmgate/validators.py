"""Field validators shared by every app.

Digits are matched with ``[0-9]``, never ``\\d``: Python's ``\\d`` accepts Arabic-Indic and
full-width digits, which a SIP switch would never send and the engine must never match.
"""

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator

no_nul = ProhibitNullCharactersValidator()

CODE_MAX_LENGTH = 15

digits_code = RegexValidator(
    r"^[0-9]{0,15}\Z",
    "Use 0–15 digits 0-9 (leave empty for the catch-all).",
    code="invalid_code",
)

tech_prefix_chars = RegexValidator(
    r"^[0-9#*]{1,10}\Z",
    "Use 1–10 characters of 0-9, # and *.",
    code="invalid_tech_prefix",
)

iso_currency = RegexValidator(r"^[A-Z]{3}\Z", "Use an ISO 4217 code such as USD.")
