package main

import "database/sql"

func open() (*sql.DB, error) {
	return sql.Open("postgres", "host=db user=app password=Kf4k3G0Lib dbname=app sslmode=disable")
}
