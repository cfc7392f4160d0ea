"""Two-factor sign-in: a time-based code from an authenticator app (django-otp's TOTP
device) or one of ten single-use recovery codes (its static device), asked for after the
password on the agent and the admin login.

A password alone never signs anyone in when a second factor is due: the password step
keeps only the user's id in the session (PENDING_KEY) and login() runs once the code is
right, so no page, API call or websocket ever sees a half-signed-in user. A user who must
have a second factor (HELPDESK_2FA_REQUIRED) and has none is sent from the password to
enrolment, and signed in once it is confirmed.
"""
