package database

import (
	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
	"github.com/kinko-dev/kinko/internal/secrets/database/mysql"
	"github.com/kinko-dev/kinko/internal/secrets/database/postgres"
	"github.com/kinko-dev/kinko/internal/secrets/database/redis"
)

// plugins are the database plugins compiled in, by plugin_name.
var plugins = func() map[string]dbplugin.Factory {
	m := map[string]dbplugin.Factory{postgres.PluginName: postgres.New, redis.PluginName: redis.New}
	for name, f := range mysql.Plugins() {
		m[name] = f
	}
	return m
}()

func pluginNames() []string {
	out := make([]string, 0, len(plugins))
	for n := range plugins {
		out = append(out, n)
	}
	return out
}
