# `cmake --install`: where Debian puts things. With the default prefix /usr/local:
#   bin/confide-server, confide-cli, confide-loadgen
#   lib/systemd/system/confide.service, confide-redis.service   (systemd reads /usr/local/lib)
#   lib/sysusers.d/confide.conf                                  (the confide user)
#   share/confide/web/                                           (the web client, when built)
#   share/doc/confide/                                           (operations.md, haproxy.cfg, prometheus/)
#   /etc/confide/redis.conf, /etc/confide/confide.env            (confide.env only when absent)
# DESTDIR stages it all (DESTDIR=/tmp/stage cmake --install build/release).
include(GNUInstallDirs)

set(CONFIDE_CONF_DIR /etc/confide CACHE PATH "Configuration directory of the installed server")
set(CONFIDE_UNIT_DIR ${CMAKE_INSTALL_PREFIX}/lib/systemd/system
    CACHE PATH "Where the systemd units are installed")
set(CONFIDE_SYSUSERS_DIR ${CMAKE_INSTALL_PREFIX}/lib/sysusers.d
    CACHE PATH "Where the sysusers.d file is installed")
set(CONFIDE_DOC_DIR ${CMAKE_INSTALL_FULL_DOCDIR})
set(CONFIDE_WEB_DIR ${CMAKE_INSTALL_FULL_DATADIR}/confide/web)

install(TARGETS confide-server confide-admin confide-cli confide-loadgen RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The web client is served when it was built (scripts/build-web.sh) before the configuration.
set(web_dist ${PROJECT_SOURCE_DIR}/clients/web/dist)
if(EXISTS ${web_dist}/index.html)
  install(DIRECTORY ${web_dist}/ DESTINATION ${CONFIDE_WEB_DIR})
  set(CONFIDE_ENV_WEB_ROOT "# The web client, served at /.\nCONFIDE_WEB_ROOT=${CONFIDE_WEB_DIR}")
else()
  set(CONFIDE_ENV_WEB_ROOT
      "# The web client was not built with this install (scripts/build-web.sh, then install again).\n# CONFIDE_WEB_ROOT=${CONFIDE_WEB_DIR}")
endif()

set(deploy ${PROJECT_SOURCE_DIR}/deploy)
set(generated ${PROJECT_BINARY_DIR}/deploy)
configure_file(${deploy}/confide.service.in ${generated}/confide.service @ONLY)
configure_file(${deploy}/confide-redis.service.in ${generated}/confide-redis.service @ONLY)
configure_file(${deploy}/confide.env.in ${generated}/confide.env @ONLY)

install(FILES ${generated}/confide.service ${generated}/confide-redis.service
        DESTINATION ${CONFIDE_UNIT_DIR})
install(FILES ${deploy}/confide.sysusers DESTINATION ${CONFIDE_SYSUSERS_DIR} RENAME confide.conf)
install(FILES ${deploy}/redis.conf DESTINATION ${CONFIDE_CONF_DIR})
# The settings are the operator's once installed: never overwritten. The current defaults are
# always in the documentation directory.
install(FILES ${generated}/confide.env DESTINATION ${CONFIDE_DOC_DIR} RENAME confide.env.default)
install(CODE "
  set(env \"\$ENV{DESTDIR}${CONFIDE_CONF_DIR}/confide.env\")
  if(EXISTS \"\${env}\")
    message(STATUS \"Kept: \${env} (the defaults: ${CONFIDE_DOC_DIR}/confide.env.default)\")
  else()
    file(INSTALL \"${generated}/confide.env\" DESTINATION \"${CONFIDE_CONF_DIR}\"
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
  endif()
")
install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/README.md
              ${deploy}/haproxy.cfg DESTINATION ${CONFIDE_DOC_DIR})
install(DIRECTORY ${deploy}/prometheus DESTINATION ${CONFIDE_DOC_DIR})
