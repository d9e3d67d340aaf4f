// Starts GraphiQL against this host's /graphql, with every file it needs
// served by Concord itself (see crates/server/assets/README.md).
(function () {
  'use strict';
  var endpoint = new URL('/graphql', window.location.href);
  // Subscriptions go to the same path over graphql-transport-ws; the client
  // connects only when a subscription is run.
  var socket = new URL(endpoint.href);
  socket.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';
  var fetcher = GraphiQL.createFetcher({
    url: endpoint.href,
    subscriptionUrl: socket.href,
  });
  var defaultQuery = [
    '# Concord: HR&SS public-service standards by region and zone.',
    '# Press Ctrl-Enter to run; the Docs button lists every field.',
    '{',
    '  zones {',
    '    code',
    '    nameZh',
    '    members { code nameZh }',
    '  }',
    '}',
    '',
  ].join('\n');
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: true,
    }),
  );
})();
