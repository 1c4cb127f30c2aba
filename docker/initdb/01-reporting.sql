-- The reporting database beside Airflow's metadata database (run once by the postgres image at first start).
CREATE DATABASE reporting OWNER airflow;
