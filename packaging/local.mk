# SPDX-License-Identifier: Apache-2.0
# packaging/local.mk -- what `make install` puts beside the programs: the
# systemd units (packaging/systemd), the sample configuration
# ($(sysconfdir)/zupd/zupd.conf, never over an existing one), the example
# nginx site and the guides the units' Documentation= lines name.

# configure --with-systemdsystemunitdir=DIR (default $(prefix)/lib/systemd/system,
# which systemd searches for /usr and /usr/local; "no": no units)
if HAVE_SYSTEMD_UNITS
systemdsystemunit_DATA = \
	packaging/systemd/zupd-update.service \
	packaging/systemd/zupd-update.timer \
	packaging/systemd/zupd-update-avdb.service \
	packaging/systemd/zupd-update-avdb.timer \
	packaging/systemd/zupd-mirror-serve.service \
	packaging/systemd/zupd-mirror-sync.service \
	packaging/systemd/zupd-mirror-sync.timer \
	packaging/systemd/zupd-mirror-log-monitor.service \
	packaging/systemd/zupd-mirror-log-monitor.timer \
	packaging/systemd/zupd-mirror-refresh@.service \
	packaging/systemd/zupd-mirror-refresh@.timer
endif

# The units name /usr/bin, /etc and /usr/share/doc: the installed copies name
# this build's directories instead (no change for --prefix=/usr --sysconfdir=/etc).
install-data-hook: install-units-paths
install-units-paths:
	@for u in $(systemdsystemunit_DATA); do \
	  f="$(DESTDIR)$(systemdsystemunitdir)/$$(basename "$$u")"; \
	  sed -e 's|/usr/bin/|$(bindir)/|g' -e 's|/etc/zupd|$(sysconfdir)/zupd|g' \
	      -e 's|/usr/share/doc/|$(datadir)/doc/|g' "$$f" >"$$f.tmp" && mv "$$f.tmp" "$$f" || exit 1; \
	done
.PHONY: install-units-paths

# The guides of the endpoint service ($(docdir) = $(datadir)/doc/zupd) and
# of the mirror's units ($(datadir)/doc/zupd-mirror, as the Debian packages).
dist_doc_DATA = docs/service.md
zupdmirrordocdir = $(datadir)/doc/zupd-mirror
dist_zupdmirrordoc_DATA = docs/mirror.md docs/zupd-mirror-serve.md docs/policy.md
zupdmirrorexampledir = $(zupdmirrordocdir)/examples
dist_zupdmirrorexample_DATA = packaging/nginx/zupd-mirror.conf

# $(sysconfdir)/zupd/zupd.conf: the sample, unless one is there already (an
# administrator's); uninstall removes it only while it is still the sample
zupdconfdir = $(sysconfdir)/zupd
install-data-local:
	$(MKDIR_P) "$(DESTDIR)$(zupdconfdir)"
	@if test -f "$(DESTDIR)$(zupdconfdir)/zupd.conf"; then \
	  echo "$(DESTDIR)$(zupdconfdir)/zupd.conf exists: not replaced"; \
	else \
	  echo " $(INSTALL_DATA) packaging/config/zupd.conf $(DESTDIR)$(zupdconfdir)/zupd.conf"; \
	  $(INSTALL_DATA) "$(srcdir)/packaging/config/zupd.conf" "$(DESTDIR)$(zupdconfdir)/zupd.conf"; \
	fi
uninstall-local:
	@if cmp -s "$(srcdir)/packaging/config/zupd.conf" "$(DESTDIR)$(zupdconfdir)/zupd.conf"; then \
	  rm -f "$(DESTDIR)$(zupdconfdir)/zupd.conf"; \
	fi
	-rmdir "$(DESTDIR)$(zupdconfdir)" 2>/dev/null
