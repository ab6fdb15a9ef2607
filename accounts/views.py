from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from common.http import AuthenticatedHttpRequest
from notifications.models import TRANSACTIONAL_KINDS, Notification
from notifications.services import notification_email_kinds_for, notification_preferences_update

from .forms import EmailPreferencesForm, UserSettingsForm
from .services import user_update_settings


def _settings_page(
    request: AuthenticatedHttpRequest,
    *,
    form: UserSettingsForm | None = None,
    email_form: EmailPreferencesForm | None = None,
) -> HttpResponse:
    user = request.user
    return render(
        request,
        "accounts/user_settings.html",
        {
            "form": form
            or UserSettingsForm(
                initial={"display_name": user.display_name, "time_zone": user.time_zone}
            ),
            "email_form": email_form
            or EmailPreferencesForm(
                initial={"email_kinds": sorted(notification_email_kinds_for(user=user))}
            ),
            "always_emailed": [
                kind.label for kind in Notification.Kind if kind in TRANSACTIONAL_KINDS
            ],
        },
    )


@login_required
def settings_edit(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = UserSettingsForm(request.POST) if request.method == "POST" else None
    if form is not None and form.is_valid():
        try:
            user_update_settings(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Your settings are saved.")
            return redirect("accounts:settings")
    return _settings_page(request, form=form)


@login_required
@require_POST
def settings_emails(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Which optional kinds of message also come by email (the rest stay in the app)."""
    email_form = EmailPreferencesForm(request.POST)
    if not email_form.is_valid():
        return _settings_page(request, email_form=email_form)
    notification_preferences_update(
        user=request.user, email_kinds=set(email_form.cleaned_data["email_kinds"])
    )
    messages.success(request, "Your email choices are saved.")
    return redirect("accounts:settings")
