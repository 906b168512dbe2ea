"""What every stage shares: the run log (``runs``), the audit log (``audit``), persistence
helpers (``store``) and the Moodle web-service API built from the settings (``moodle``). It
imports no stage."""
