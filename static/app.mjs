// A small ES module: served as text/javascript, which browsers require for module scripts.
const status = document.querySelector('#status');
if (status) status.textContent = `Served by ${document.location.host} at ${new Date().toLocaleTimeString()}.`;
document.documentElement.dataset.module = 'ran';
