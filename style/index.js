import './base.css';
import './runs.css';
import './explorer.css';
import './jobs.css';
