FROM python:3.11-slim-bookworm AS assets
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# The same files as `make assets` (Makefile VENDOR_FILES); dev dependencies (stylelint) are left out.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && mkdir -p /vendor && cp \
      node_modules/htmx.org/dist/htmx.min.js \
      node_modules/tom-select/dist/js/tom-select.base.min.js \
      node_modules/tom-select/dist/js/tom-select.base.min.js.map \
      node_modules/tom-select/dist/css/tom-select.min.css \
      node_modules/tom-select/dist/css/tom-select.min.css.map \
      /vendor/

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=mentorship.settings.production
WORKDIR /app
# Pango: WeasyPrint draws the close-out report's PDF with it.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*
# The same hashed lock as `make run` and CI: the image gets exactly the tested versions.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
COPY --from=assets /vendor/ static/vendor/
# collectstatic needs settings to import; these placeholder values never serve a request.
RUN DJANGO_SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput
RUN useradd --create-home mentorship
USER mentorship
EXPOSE 8000
# gthread workers sized from the CPUs, 30 s timeout, graceful reloads on HUP: gunicorn.conf.py.
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
