from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from common.http import AuthenticatedHttpRequest

from .forms import UserSettingsForm
from .services import user_update_settings


@login_required
def settings_edit(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    form = UserSettingsForm(
        request.POST or None,
        initial={"display_name": user.display_name, "time_zone": user.time_zone},
    )
    if request.method == "POST" and form.is_valid():
        try:
            user_update_settings(user=user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Your settings are saved.")
            return redirect("accounts:settings")
    return render(request, "accounts/user_settings.html", {"form": form})
