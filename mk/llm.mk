# The model client's schema, installed beside the extension's SQL scripts.
install: install-llm-schema
install-llm-schema:
	$(MKDIR_P) '$(DESTDIR)$(datadir)/extension'
	$(INSTALL_DATA) sql/resume_schema.json '$(DESTDIR)$(datadir)/extension/resume_pipeline_schema.json'

uninstall: uninstall-llm-schema
uninstall-llm-schema:
	rm -f '$(DESTDIR)$(datadir)/extension/resume_pipeline_schema.json'

.PHONY: install-llm-schema uninstall-llm-schema
