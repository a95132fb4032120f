FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN SECRET_KEY=build-only DEBUG=0 python manage.py collectstatic --noinput
EXPOSE 8000
# docker-compose.yml gives each service its command (deploy/Procfile); alone, the image serves the web process,
# which belongs behind a buffering proxy (deploy/nginx/retarget.conf.template).
CMD ["gunicorn", "-c", "retarget/gunicorn.conf.py", "retarget.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
