// The graph page: services as compound nodes holding their versions, calls as edges labelled
// rate, error % and p99, coloured by health; relayed TCP connections as dashed edges of their
// own (as Kiali draws them) labelled bytes/s and connections, coloured by failed connections;
// refreshes itself every few seconds.
(function () {
  'use strict';
  var REFRESH_MS = 5000;
  var TIMEOUT_MS = 15000; // longer than the API's own 10 s wait for other instances
  var params = new URLSearchParams(location.search);
  var select = document.getElementById('window');
  if (params.get('window')) {
    var opt = Array.prototype.find.call(select.options, function (o) { return o.value === params.get('window'); });
    if (!opt) { opt = new Option(params.get('window'), params.get('window')); select.add(opt); }
    select.value = params.get('window');
  }
  var cy = cytoscape({
    container: document.getElementById('graph'),
    wheelSensitivity: 0.2,
    style: [
      { selector: 'node', style: { 'label': 'data(label)', 'text-valign': 'center', 'text-halign': 'center',
        'background-color': '#4a78b5', 'color': '#fff', 'font-size': 11, 'shape': 'round-rectangle',
        'width': 'data(width)', 'height': 26 } },
      { selector: ':parent', style: { 'background-color': '#eef2f7', 'background-opacity': 1,
        'border-color': '#9aa9bb', 'border-width': 1, 'text-valign': 'top', 'text-halign': 'center',
        'color': '#1f2d3d', 'font-weight': 'bold', 'padding': 10 } },
      { selector: 'edge', style: { 'curve-style': 'bezier', 'target-arrow-shape': 'triangle',
        'width': 2, 'line-color': 'data(color)', 'target-arrow-color': 'data(color)',
        'label': 'data(label)', 'font-size': 10, 'text-rotation': 'autorotate',
        'text-background-color': '#fff', 'text-background-opacity': 0.85, 'text-background-padding': 2 } },
      { selector: 'edge.tcp', style: { 'line-style': 'dashed', 'target-arrow-shape': 'triangle-tee' } }
    ]
  });
  window.meshlogGraph = { cy: cy, nodes: [], edges: [] };

  function health(errorRate) {
    return errorRate > 0.05 ? '#d63b2f' : errorRate > 0.01 ? '#e69a00' : '#2e9d57';
  }
  // TCP edges: blue when no connection failed, as HTTP's colours when some did
  function tcpHealth(failureRate) {
    return failureRate > 0.01 ? health(failureRate) : '#3b6fd6';
  }
  function num(x, digits) { return Number(x).toFixed(digits); }
  function bytesPerSecond(x) {
    var units = ['B/s', 'KB/s', 'MB/s', 'GB/s'];
    var i = 0;
    while (x >= 1000 && i < units.length - 1) { x /= 1000; i++; }
    return num(x, x < 10 && i > 0 ? 1 : 0) + ' ' + units[i];
  }
  function hasHttp(e) { return !e.protocols || e.protocols.indexOf('http') >= 0; }
  function tcpLabel(t) {
    return 'tcp · ' + bytesPerSecond(t.receivedBytesPerSecond + t.sentBytesPerSecond) + ' · '
      + t.connectionsOpened + (t.connectionsOpened === 1 ? ' conn' : ' conns')
      + (t.failedConnections ? ' · ' + t.failedConnections + ' failed' : '');
  }
  function versionId(end) { return end.namespace + '/' + end.service + '/' + end.version; }
  // ' (namespace)', or nothing for a caller from outside the mesh (service unknown, no namespace)
  function inNs(namespace) { return namespace ? ' (' + namespace + ')' : ''; }

  function elements(graph) {
    var els = [];
    graph.nodes.forEach(function (n) {
      els.push({ group: 'nodes', data: { id: 'svc:' + n.id, label: n.service + inNs(n.namespace), width: 60 } });
      n.versions.forEach(function (v) {
        var label = v || n.service;
        els.push({ group: 'nodes', data: { id: n.id + '/' + v, parent: 'svc:' + n.id, label: label,
          width: Math.max(40, label.length * 7 + 16) } });
      });
    });
    graph.edges.forEach(function (e) {
      if (hasHttp(e)) {
        els.push({ group: 'edges', data: { id: e.id, source: versionId(e.source), target: versionId(e.destination),
          color: health(e.errorRate), protocol: 'http',
          label: num(e.requestsPerSecond, 2) + ' rps · ' + num(e.errorRate * 100, 1) + '% · p99 ' + num(e.p99Millis, 1) + ' ms' } });
      }
      if (e.tcp) { // an edge of its own, beside the HTTP one when the edge carries both
        els.push({ group: 'edges', classes: 'tcp', data: { id: e.id + '#tcp', source: versionId(e.source),
          target: versionId(e.destination), color: tcpHealth(e.tcp.failureRate), protocol: 'tcp',
          label: tcpLabel(e.tcp) } });
      }
    });
    return els;
  }

  function table(graph) {
    var body = document.getElementById('edges');
    body.innerHTML = '';
    graph.edges.forEach(function (e) {
      var tr = document.createElement('tr');
      tr.dataset.edge = e.id;
      var http = hasHttp(e);
      var bad = Math.max(e.errorRate, e.tcp ? e.tcp.failureRate : 0);
      tr.className = bad > 0.05 ? 'bad' : bad > 0.01 ? 'warn' : '';
      tr.dataset.protocols = (e.protocols || ['http']).join(',');
      // an edge of TCP connections alone has no requests: its HTTP cells are empty, not 0 rps
      var none = '\u2013';
      [e.source.service + ' ' + e.source.version + inNs(e.source.namespace),
       e.destination.service + ' ' + e.destination.version + inNs(e.destination.namespace),
       http ? num(e.requestsPerSecond, 2) : none, http ? e.requests : none,
       http ? e.errors + ' (' + num(e.errorRate * 100, 1) + '%)' : none,
       http ? num(e.p50Millis, 1) : none, http ? num(e.p99Millis, 1) : none,
       (e.protocols || ['http']).join(' + '),
       e.tcp ? e.tcp.connectionsOpened + ' / ' + e.tcp.connectionsClosed + ' / ' + e.tcp.failedConnections : none,
       e.tcp ? bytesPerSecond(e.tcp.receivedBytesPerSecond) + ' / ' + bytesPerSecond(e.tcp.sentBytesPerSecond) : none
      ].forEach(function (text) {
        var td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    var services = document.getElementById('services');
    services.innerHTML = '';
    graph.nodes.forEach(function (n) {
      var li = document.createElement('li');
      li.dataset.service = n.id;
      li.dataset.versions = n.versions.join(',');
      li.textContent = n.id;
      services.appendChild(li);
    });
  }

  // Events proxies reported lost (dropped while Kafka was away) are in no count on this page:
  // say so, how many, and whose proxies lost them (the reporting service and version).
  function losses(graph) {
    var box = document.getElementById('losses');
    var lost = graph.lostReported || 0;
    box.dataset.lost = lost;
    box.innerHTML = '';
    if (!lost) {
      box.hidden = true;
      return;
    }
    box.appendChild(document.createTextNode('\u26a0 ' + lost + (lost === 1
      ? ' request event lost by proxies\u2019 telemetry is not counted'
      : ' request events lost by proxies\u2019 telemetry are not counted')
      + ' in this window (the counts below are short by that much). Reported by: '));
    var first = true;
    graph.nodes.forEach(function (n) {
      Object.keys(n.lostReportedByVersion || {}).forEach(function (v) {
        if (!first) { box.appendChild(document.createTextNode(', ')); }
        first = false;
        var span = document.createElement('span');
        span.dataset.reporter = n.id + '/' + v;
        span.dataset.lost = n.lostReportedByVersion[v];
        span.textContent = n.service + (v ? ' ' + v : '') + inNs(n.namespace) + ' ' + n.lostReportedByVersion[v];
        box.appendChild(span);
      });
    });
    box.hidden = false;
  }

  // What the canvas holds, in the DOM (hidden): each drawn edge with its protocol, line style and
  // label as Cytoscape styled it, for tests and for screen readers.
  function drawn() {
    var list = document.getElementById('drawn');
    list.innerHTML = '';
    cy.edges().forEach(function (edge) {
      var li = document.createElement('li');
      li.dataset.edge = edge.id();
      li.dataset.protocol = edge.data('protocol');
      li.dataset.lineStyle = edge.style('line-style');
      li.textContent = edge.data('label');
      list.appendChild(li);
    });
  }

  function render(graph) {
    var els = elements(graph);
    var ids = els.map(function (e) { return e.data.id; }).sort().join('|');
    if (ids !== window.meshlogGraph.ids) {
      cy.elements().remove();
      cy.add(els);
      cy.layout({ name: 'breadthfirst', directed: true, spacingFactor: 1.3, padding: 20,
        roots: cy.nodes().filter(function (n) { return !n.isParent() && n.indegree() === 0; }),
        animate: false }).run();
      window.meshlogGraph.ids = ids;
    } else {
      els.forEach(function (e) { cy.getElementById(e.data.id).data(e.data); });
    }
    window.meshlogGraph.nodes = graph.nodes;
    window.meshlogGraph.edges = graph.edges;
    drawn();
    table(graph);
    losses(graph);
  }

  // When the last graph was drawn; while the API is away (a restart) the page keeps that graph,
  // greyed and said to be stale, and keeps asking: it draws the live graph again by itself.
  var loadedAt = null;

  function refresh() {
    // an API that accepts and never answers (a host gone, a stopped process) would leave the
    // page waiting forever, showing its last graph as if live: give up after a while, and retry
    var abort = new AbortController();
    var giveUp = setTimeout(function () { abort.abort(); }, TIMEOUT_MS);
    // the page's namespace filter (?namespace=a,b), passed on as it is
    fetch('/api/v1/graph?window=' + encodeURIComponent(select.value)
        + (params.get('namespace') !== null ? '&namespace=' + encodeURIComponent(params.get('namespace')) : ''),
        { signal: abort.signal, cache: 'no-store' })
      .then(function (r) {
        if (r.ok) { return r.json(); }
        // an error of the API says what was wrong; anything else in between (a proxy's HTML page) its status
        return r.json().then(function (b) { throw new Error(b.error || 'HTTP ' + r.status); },
          function () { throw new Error('HTTP ' + r.status + ' ' + r.statusText); });
      }, function (err) {
        throw new Error('the pipeline does not answer (' + (err.name === 'AbortError'
          ? 'no answer within ' + TIMEOUT_MS / 1000 + ' s' : err.message) + ')');
      })
      .then(function (graph) {
        render(graph);
        loadedAt = new Date();
        var status = document.getElementById('status');
        status.textContent = graph.nodes.length + ' services, ' + graph.edges.length + ' edges · updated '
          + loadedAt.toLocaleTimeString() + (graph.unreachable.length ? ' · partial: ' + graph.unreachable.join(', ') : '');
        status.dataset.state = 'loaded';
        delete document.body.dataset.stale;
      })
      .catch(function (err) {
        var status = document.getElementById('status');
        status.textContent = 'cannot load the graph: ' + err.message + ' · retrying every ' + REFRESH_MS / 1000 + ' s'
          + (loadedAt ? ' · showing the graph of ' + loadedAt.toLocaleTimeString() + ', not live' : '');
        status.dataset.state = 'error';
        if (loadedAt) { document.body.dataset.stale = 'true'; }
      })
      .finally(function () { clearTimeout(giveUp); clearTimeout(timer); timer = setTimeout(refresh, REFRESH_MS); });
  }
  var timer;
  select.addEventListener('change', function () { window.meshlogGraph.ids = null; clearTimeout(timer); refresh(); });
  refresh();
})();
