"""Views, one module per area: coordinator pages (programs, cohorts, enrolments), participation
(applying, one's own enrolments and profile), invitations, imports and the vocabulary."""
