FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN SECRET_KEY=build-only DEBUG=0 python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "-c", "retarget/gunicorn.conf.py", "retarget.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
