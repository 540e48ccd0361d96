"""The weather company's own Airflow package, as their image (registry.example.com/weather/airflow-wx)
installs it. podenv puts this folder on the PYTHONPATH of containers that run that image."""
